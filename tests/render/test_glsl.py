"""Tests for photo3d.render.glsl: multi-stage GLSL preprocessing, without an OpenGL context."""

from __future__ import annotations

from photo3d.render.glsl import STAGES, load_program_sources, stage_source
from tests.support.helpers import raises_one_line

SOURCE = """#version 330 core
// line 2
#if defined VERTEX_SHADER
void main() { gl_Position = vec4(0.0); }
#elif defined FRAGMENT_SHADER
out vec4 f_color;
void main() { f_color = vec4(1.0); }
#endif
"""


def test_stage_source_header_order():
    out = stage_source(SOURCE, "VERTEX_SHADER", {"FACTOR": 2, "MODE": "fast"}).splitlines()
    assert out[:5] == [
        "#version 330 core",
        "#define VERTEX_SHADER 1",
        "#define FACTOR 2",
        "#define MODE fast",
        "#line 2",
    ]
    # After "#line 2" the file continues at its own line 2, so compiler line numbers match the file.
    assert out[5:] == SOURCE.splitlines()[1:]


def test_stage_source_without_defines():
    out = stage_source(SOURCE, "FRAGMENT_SHADER").splitlines()
    assert out[:3] == ["#version 330 core", "#define FRAGMENT_SHADER 1", "#line 2"]
    assert "VERTEX_SHADER 1" not in "\n".join(out)


def test_stage_source_needs_version_first():
    raises_one_line(stage_source, "// comment\n#version 330 core\n", "VERTEX_SHADER", words=("#version",))
    raises_one_line(stage_source, "", "VERTEX_SHADER", words=("#version",))


def test_include_is_resolved_from_folder(tmp_path):
    (tmp_path / "common.glsl").write_text("float half_of(float x) { return 0.5 * x; }\n")
    text = '#version 330 core\n#include "common.glsl"\nvoid main() {}\n'
    out = stage_source(text, "VERTEX_SHADER", folder=tmp_path)
    assert out.splitlines() == [
        "#version 330 core",
        "#define VERTEX_SHADER 1",
        "#line 2",
        "#line 1",
        "float half_of(float x) { return 0.5 * x; }",
        "#line 3",  # back in the including file: "void main() {}" is its line 3
        "void main() {}",
    ]
    assert "#include" not in out


def test_nested_include(tmp_path):
    (tmp_path / "a.glsl").write_text('#include "b.glsl"\nconst float A = 1.0;\n')
    (tmp_path / "b.glsl").write_text("const float B = 2.0;\n")
    out = stage_source('#version 330 core\n#include "a.glsl"\n', "FRAGMENT_SHADER", folder=tmp_path)
    assert out.index("const float B") < out.index("const float A")


def test_include_without_folder_raises_one_line():
    raises_one_line(
        stage_source, '#version 330 core\n#include "x.glsl"\n', "VERTEX_SHADER", words=("#include", "folder")
    )


def test_missing_include_raises_one_line(tmp_path):
    text = '#version 330 core\n#include "absent.glsl"\n'
    raises_one_line(stage_source, text, "VERTEX_SHADER", folder=tmp_path, words=("missing", "absent.glsl"))


def test_include_cycle_raises_one_line(tmp_path):
    (tmp_path / "a.glsl").write_text('#include "b.glsl"\n')
    (tmp_path / "b.glsl").write_text('#include "a.glsl"\n')
    text = '#version 330 core\n#include "a.glsl"\n'
    raises_one_line(stage_source, text, "VERTEX_SHADER", folder=tmp_path, words=("#include", "cycle"))


def test_self_include_raises_one_line(tmp_path):
    (tmp_path / "self.glsl").write_text('#include "self.glsl"\n')
    text = '#version 330 core\n#include "self.glsl"\n'
    raises_one_line(stage_source, text, "FRAGMENT_SHADER", folder=tmp_path, words=("cycle",))


def test_load_program_sources_mesh():
    sources = load_program_sources("mesh.glsl")
    assert set(sources) == set(STAGES) == {"vertex_shader", "fragment_shader"}
    vs, fs = sources["vertex_shader"].splitlines(), sources["fragment_shader"].splitlines()
    assert vs[0].startswith("#version") and fs[0].startswith("#version")
    assert vs[1:3] == ["#define VERTEX_SHADER 1", "#line 2"]
    assert fs[1:3] == ["#define FRAGMENT_SHADER 1", "#line 2"]
    assert "u_clip" in sources["vertex_shader"]


def test_load_program_sources_downsample_factor():
    sources = load_program_sources("downsample.glsl", {"FACTOR": 2})
    for key, stage in STAGES.items():
        lines = sources[key].splitlines()
        assert lines[0].startswith("#version")
        assert lines[1:4] == [f"#define {stage} 1", "#define FACTOR 2", "#line 2"]
    # The resolve includes the sRGB transfer functions: the include is expanded into both stages.
    for key in STAGES:
        assert "vec3 linear_to_srgb(" in sources[key] and '#include "srgb.glsl"' not in sources[key]


def test_load_program_sources_missing_file():
    raises_one_line(load_program_sources, "nosuch.glsl", words=("nosuch.glsl", "not found"))
