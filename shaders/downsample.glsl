#version 330 core
// SSAA resolve: each output pixel is the mean of the FACTOR x FACTOR block of
// the supersampled image that covers it (an area, or box, downsample).

#if defined VERTEX_SHADER

// A full-screen triangle from gl_VertexID; no vertex buffer needed.
void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}

#elif defined FRAGMENT_SHADER

uniform sampler2D u_image;
out vec4 f_color;

void main() {
    ivec2 base = ivec2(gl_FragCoord.xy) * FACTOR;
    vec4 sum = vec4(0.0);
    for (int j = 0; j < FACTOR; ++j) {
        for (int i = 0; i < FACTOR; ++i) {
            sum += texelFetch(u_image, base + ivec2(i, j), 0);
        }
    }
    f_color = sum / float(FACTOR * FACTOR);
}

#endif
