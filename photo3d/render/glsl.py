"""GLSL source preprocessing, independent of any OpenGL context.

A ``.glsl`` file holds several stages behind ``#if defined VERTEX_SHADER`` /
``#elif defined FRAGMENT_SHADER`` blocks, with ``#version`` on its first line.
:func:`stage_source` inserts the stage's ``#define`` (and any extra defines)
after the version line, followed by a ``#line`` directive so that compiler
errors point at the line of the file. ``#include "name.glsl"`` lines are
replaced by the named file from the same folder, with a depth guard against
include cycles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import Photo3DError
from ..resources import resource_path

__all__ = ["STAGES", "load_program_sources", "stage_source"]

STAGES = {"vertex_shader": "VERTEX_SHADER", "fragment_shader": "FRAGMENT_SHADER"}
_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$')
_MAX_INCLUDE_DEPTH = 8


def _resolve_includes(text: str, folder: Path, first_line: int, depth: int = 0) -> str:
    """Expands includes; ``#line`` after each one restores the including file's numbering."""
    if depth > _MAX_INCLUDE_DEPTH:
        raise Photo3DError(f"GLSL #include nested more than {_MAX_INCLUDE_DEPTH} deep (an include cycle?)")
    out = []
    for number, line in enumerate(text.splitlines(), start=first_line):
        m = _INCLUDE.match(line)
        if m is None:
            out.append(line)
            continue
        path = folder / m.group(1)
        if not path.is_file():
            raise Photo3DError(f"GLSL #include of missing file {path}")
        out += ["#line 1", _resolve_includes(path.read_text(), folder, 1, depth + 1), f"#line {number + 1}"]
    return "\n".join(out)


def stage_source(text: str, stage: str, defines: Mapping[str, object] | None = None, folder: Path | None = None) -> str:
    """The source of one shader stage from a multi-stage GLSL file.

    Args:
        text: The whole file; its first line must be a ``#version`` directive.
        stage: ``"VERTEX_SHADER"`` or ``"FRAGMENT_SHADER"``.
        defines: Extra ``#define NAME VALUE`` lines to insert.
        folder: Where ``#include`` files are looked up (required if the file includes any).

    Returns:
        Source text with ``#version`` first, then the defines, then ``#line 2``
        and the rest of the file (includes resolved).

    Raises:
        Photo3DError: If the first line is not ``#version`` or an include cannot be resolved.

    """
    lines = text.splitlines()
    if not lines or not lines[0].startswith("#version"):
        raise Photo3DError("a GLSL file must start with a #version line")
    body = "\n".join(lines[1:])
    if folder is not None:
        body = _resolve_includes(body, folder, 2)
    elif any(_INCLUDE.match(line) for line in lines):
        raise Photo3DError("GLSL #include needs the folder of the including file")
    header = [lines[0], f"#define {stage} 1"]
    header += [f"#define {name} {value}" for name, value in (defines or {}).items()]
    return "\n".join([*header, "#line 2", body, ""])


def load_program_sources(name: str, defines: Mapping[str, object] | None = None) -> dict[str, str]:
    """Vertex and fragment sources of the shader file ``shaders/<name>``.

    Returns:
        ``{"vertex_shader": ..., "fragment_shader": ...}``, ready for ``moderngl.Context.program``.

    """
    path = resource_path("shaders", name)
    text = path.read_text()
    return {key: stage_source(text, stage, defines, path.parent) for key, stage in STAGES.items()}
