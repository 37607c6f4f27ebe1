#version 330 core
// Draws an LDI mesh. Vertices are in the source camera's OpenCV frame
// (x right, y down, z forward); u_world_to_camera moves them into the render
// camera's OpenCV frame and u_clip (Intrinsics.clip_matrix) projects them so
// that NDC y grows with the image row.

#if defined VERTEX_SHADER

uniform mat4 u_world_to_camera;
uniform mat4 u_clip;

in vec3 in_position;
in vec3 in_color;

out vec3 v_color;

void main() {
    vec4 p = u_world_to_camera * vec4(in_position, 1.0);
    gl_Position = u_clip * p;
    v_color = in_color;
}

#elif defined FRAGMENT_SHADER

in vec3 v_color;
out vec4 f_color;

void main() {
    f_color = vec4(v_color, 1.0);
}

#endif
