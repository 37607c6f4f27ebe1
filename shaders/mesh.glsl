#version 330 core
// Draws an LDI mesh. Vertices are in the source camera's OpenCV frame
// (x right, y down, z forward); u_world_to_camera moves them into the render
// camera's OpenCV frame and u_clip (Intrinsics.clip_matrix) projects them so
// that NDC y grows with the image row.
//
// Colours stay sRGB-encoded here (interpolated and filtered as encoded values,
// like a bilinear resample of the photo); downsample.glsl resolves in linear light.
//
// TEXTURED 0: per-vertex colour in_color.rgb with opacity in_color.a.
// TEXTURED 1: a vertex with in_texcoord = (column, row) in source pixels (integer
// values at pixel centres) samples layer round(255 * in_color.a) of u_texture, an
// array of the LDI layers' colour images, and is opaque; in_texcoord = (-1, -1) marks a
// vertex coloured by in_color.rgb with opacity in_color.a. All vertices of a triangle
// share the mode and the layer.
//
// The output is premultiplied (rgb * alpha, alpha): opaque triangles write alpha 1, and
// the renderer blends translucent ones (soft silhouettes) with ONE, ONE_MINUS_SRC_ALPHA.
// Vertex colours are premultiplied before they are interpolated: interpolated apart, a dark
// foreground colour of a nearly transparent vertex would darken its opaque neighbour's half of
// the triangle (a dark line along every soft silhouette).

// Vertex colours use centroid interpolation: with MSAA, a pixel only partly covered by a
// triangle is shaded at a point inside it, not by extrapolating its colours past its edge
// (texture coordinates stay at the pixel centre, so textures sample exactly at 1:1).

#if defined VERTEX_SHADER

uniform mat4 u_world_to_camera;
uniform mat4 u_clip;

in vec3 in_position;
in vec4 in_color;
#if TEXTURED
in vec2 in_texcoord;
uniform vec2 u_texture_size;  // (W, H) of the layer images, in pixels
// Texture coordinates times the source depth, and that depth: both are linear on a planar 3D triangle, so
// the (perspective-correct) interpolation is exact and uv = xy / z follows the source camera's projection.
out vec3 v_uvz;
flat out float v_layer;
flat out int v_textured;
#endif

centroid out vec4 v_color;

void main() {
    vec4 p = u_world_to_camera * vec4(in_position, 1.0);
    gl_Position = u_clip * p;
    v_color = vec4(in_color.rgb * in_color.a, in_color.a);
#if TEXTURED
    v_textured = all(equal(in_texcoord, vec2(-1.0))) ? 0 : 1;
    vec2 uv = v_textured == 1 ? (in_texcoord + 0.5) / u_texture_size : vec2(0.5);
    v_uvz = vec3(uv * in_position.z, in_position.z);
    v_layer = floor(255.0 * in_color.a + 0.5);
#endif
}

#elif defined FRAGMENT_SHADER

centroid in vec4 v_color;
#if TEXTURED
uniform sampler2DArray u_texture;
in vec3 v_uvz;
flat in float v_layer;
flat in int v_textured;
#endif
out vec4 f_color;

void main() {
#if TEXTURED
    // Sampled outside the branch: implicit derivatives (mipmap level) need uniform control flow.
    vec3 t = texture(u_texture, vec3(v_uvz.xy / v_uvz.z, v_layer)).rgb;
    f_color = v_textured == 1 ? vec4(t, 1.0) : v_color;
#else
    f_color = v_color;
#endif
}

#endif
