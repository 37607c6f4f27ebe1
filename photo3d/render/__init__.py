"""Rendering with moderngl: the renderer and its GLSL sources."""
