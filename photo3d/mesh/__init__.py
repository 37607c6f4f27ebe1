"""Triangle meshes of an LDI, with adaptive simplification."""
