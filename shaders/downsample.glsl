#version 330 core
// SSAA resolve and hole fill.
//
// The mesh pass draws opaque colour with alpha 1 over a clear colour of
// (0, 0, 0, 0), so the image is premultiplied and alpha is coverage. Each output
// pixel is the mean of the FACTOR x FACTOR block of samples that covers it (an
// area, or box, downsample). Where that block is not fully covered:
//  * FILL_HOLES 1: the rest is taken from the first coarser mipmap level that has
//    a quarter coverage there (a pull-push fill, as in Gortler et al., "The Lumigraph",
//    SIGGRAPH 1996), so cracks and revealed gaps show the colours around them;
//  * FILL_HOLES 0: the rest is u_background.

#if defined VERTEX_SHADER

// A full-screen triangle from gl_VertexID; no vertex buffer needed.
void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}

#elif defined FRAGMENT_SHADER

uniform sampler2D u_image;
uniform vec3 u_background;
uniform int u_levels;
out vec4 f_color;

void main() {
    ivec2 base = ivec2(gl_FragCoord.xy) * FACTOR;
    vec4 sum = vec4(0.0);
    for (int j = 0; j < FACTOR; ++j) {
        for (int i = 0; i < FACTOR; ++i) {
            sum += texelFetch(u_image, base + ivec2(i, j), 0);
        }
    }
    vec4 c = sum / float(FACTOR * FACTOR);
    vec3 rest = u_background;
#if FILL_HOLES
    if (c.a < 0.999) {
        vec2 uv = (vec2(base) + 0.5 * float(FACTOR)) / vec2(textureSize(u_image, 0));
        // The first level with a quarter coverage: fewer covered texels would make
        // the 8-bit premultiplied colour divided by alpha imprecise.
        bool found = false;
        for (int level = 1; level < u_levels && !found; ++level) {
            vec4 m = textureLod(u_image, uv, float(level));
            if (m.a > 1e-3) {
                rest = m.rgb / m.a;
                found = m.a >= 0.25;
            }
        }
    }
#endif
    f_color = vec4(c.rgb + (1.0 - c.a) * rest, 1.0);
}

#endif
