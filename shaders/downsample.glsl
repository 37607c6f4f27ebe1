#version 330 core
// SSAA resolve (an area-weighted box filter in linear light) and hole fill.
//
// The mesh pass draws opaque colour with alpha 1 over a clear colour of
// (0, 0, 0, 0), so the image is premultiplied and alpha is coverage (MSAA edges
// give fractional alphas; so does a translucent soft silhouette with nothing
// drawn behind it, whose premultiplied encoded colour is then decoded as if it
// were a colour: a small error, as back layers lie behind every soft
// silhouette). The supersampled texture is BIG_W x BIG_H texels and
// the output OUT_W x OUT_H pixels, a ratio s = BIG / OUT per axis that need not
// be an integer. Output pixel p covers the texel footprint [p s, (p + 1) s) on
// each axis; every texel it overlaps is weighted by the area of the overlap (a
// product of the overlap lengths along x and y), so texels cut by the
// footprint's edges count by the fraction inside it, and the weights sum to
// s_x s_y. For an integer s the footprint is exactly an s x s block of weight-1
// texels: the plain box mean. The texels store sRGB-encoded colour (8 bits);
// each is decoded to linear light before weighting and the mean is encoded
// again at the end, so a pixel half white and half black resolves to 188, not
// 128. LINEAR_INPUT 1 (after the MSAA resolve): the texels already hold linear,
// premultiplied colour (half floats), and only the encoding at the end remains.
//
// Where the footprint is not fully covered:
//  * FILL_HOLES 1: the rest is taken from the first coarser mipmap level that has
//    a quarter coverage there (a pull-push fill, as in Gortler et al., "The Lumigraph",
//    SIGGRAPH 1996), so cracks and revealed gaps show the colours around them;
//  * FILL_HOLES 0: the rest is u_background.
// Without LINEAR_INPUT the mipmaps average encoded values (coverage is 0 or 1 per
// texel there); the fill colour is an approximation anyway.

#include "srgb.glsl"

#if defined VERTEX_SHADER

#include "fullscreen.glsl"

#elif defined FRAGMENT_SHADER

uniform sampler2D u_image;
uniform vec3 u_background;  // sRGB-encoded, 0-1
uniform int u_levels;
out vec4 f_color;

vec4 fetch_linear(ivec2 p) {
    vec4 t = texelFetch(u_image, p, 0);
#if LINEAR_INPUT
    return t;
#else
    return vec4(srgb_to_linear(t.rgb), t.a);
#endif
}

const ivec2 BIG = ivec2(BIG_W, BIG_H);
const ivec2 OUT = ivec2(OUT_W, OUT_H);

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    // The footprint [lo, hi) in texels; first = the first texel it touches.
    vec2 lo = vec2(p * BIG) / vec2(OUT);
    vec2 hi = vec2((p + 1) * BIG) / vec2(OUT);
    ivec2 first = (p * BIG) / OUT;
    float wx[TAPS_X];
    float wy[TAPS_Y];
    float total_x = 0.0;
    float total_y = 0.0;
    for (int i = 0; i < TAPS_X; ++i) {
        float x = float(first.x + i);
        wx[i] = clamp(min(x + 1.0, hi.x) - max(x, lo.x), 0.0, 1.0);
        total_x += wx[i];
    }
    for (int j = 0; j < TAPS_Y; ++j) {
        float y = float(first.y + j);
        wy[j] = clamp(min(y + 1.0, hi.y) - max(y, lo.y), 0.0, 1.0);
        total_y += wy[j];
    }
    vec4 sum = vec4(0.0);
    for (int j = 0; j < TAPS_Y; ++j) {
        vec4 row = vec4(0.0);
        for (int i = 0; i < TAPS_X; ++i) {
            // Taps past the last texel have weight 0; clamping keeps their fetch defined.
            row += wx[i] * fetch_linear(min(first + ivec2(i, j), BIG - 1));
        }
        sum += wy[j] * row;
    }
    vec4 c = sum / (total_x * total_y);
    vec3 rest = srgb_to_linear(u_background);
#if FILL_HOLES
    if (c.a < 0.999) {
        vec2 uv = 0.5 * (lo + hi) / vec2(BIG);
        // The first level with a quarter coverage: fewer covered texels would make
        // the 8-bit premultiplied colour divided by alpha imprecise.
        bool found = false;
        for (int level = 1; level < u_levels && !found; ++level) {
            vec4 m = textureLod(u_image, uv, float(level));
            if (m.a > 1e-3) {
                rest = min(m.rgb / m.a, vec3(1.0));
#if !LINEAR_INPUT
                rest = srgb_to_linear(rest);
#endif
                found = m.a >= 0.25;
            }
        }
    }
#endif
    f_color = vec4(linear_to_srgb(c.rgb + (1.0 - c.a) * rest), 1.0);
}

#endif
