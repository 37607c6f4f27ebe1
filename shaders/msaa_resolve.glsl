#version 330 core
// MSAA resolve in linear light.
//
// The mesh pass drew into a multisample texture of sRGB-encoded, premultiplied
// colour (alpha = coverage). A fixed-function resolve (glBlitFramebuffer) would
// average the encoded values, so a half-covered white pixel would come out as
// 128 instead of the 188 (linear 0.5) its light calls for. Here each texel is
// the mean of its SAMPLES samples decoded to linear light. It stays linear and
// premultiplied (alpha = covered fraction) in the half-float supersampled
// texture that downsample.glsl reads (its LINEAR_INPUT mode), so the mipmaps of
// the hole fill average light and coverage correctly at fractional coverage.

#include "srgb.glsl"

#if defined VERTEX_SHADER

#include "fullscreen.glsl"

#elif defined FRAGMENT_SHADER

uniform sampler2DMS u_samples;
out vec4 f_color;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 sum = vec4(0.0);
    for (int s = 0; s < SAMPLES; ++s) {
        vec4 t = texelFetch(u_samples, p, s);
        sum += vec4(srgb_to_linear(t.rgb), t.a);
    }
    f_color = sum / float(SAMPLES);
}

#endif
