"""Inpainters of back layers: context only, planes continued, texture where holes are wide, user choice."""

from __future__ import annotations

import numpy as np
import pytest

from photo3d.errors import Photo3DError
from photo3d.ldi.inpaint import (
    ClassicalInpainter,
    Inpainter,
    extrapolate_disparity,
    make_inpainter,
    nearest_seed,
    push_pull_fill,
)


def stripes(h: int = 64, w: int = 96, period: int = 6) -> np.ndarray:
    """Horizontal stripes (rows alternate every period / 2), float32 0-255, (h, w, 3)."""
    rows = ((np.arange(h) // (period // 2)) % 2).astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[...] = (60.0 + 120.0 * rows)[:, None, None]
    img[..., 2] = 90.0
    return img


def hole_right_of(x0: int, h: int = 64, w: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Known: columns < x0 - 2; hole: columns x0..w-1 (a 2-column gap of neither in between)."""
    known = np.zeros((h, w), bool)
    hole = np.zeros((h, w), bool)
    known[:, : x0 - 2] = True
    hole[:, x0:] = True
    return known, hole


@pytest.mark.parametrize("inpainter", [ClassicalInpainter(), ClassicalInpainter(texture=False)])
def test_fill_reads_context_only(inpainter):
    rng = np.random.default_rng(0)
    color = rng.uniform(0, 255, (64, 96, 3)).astype(np.float32)
    known, hole = hole_right_of(40)
    a = inpainter.fill(color, known, hole)
    other = color.copy()
    other[~known] = rng.uniform(0, 255, (int((~known).sum()), 3))  # everything that is not context changes
    other[hole & (np.arange(96) % 7 == 0)] = np.nan  # even to NaN
    b = inpainter.fill(other, known, hole)
    np.testing.assert_array_equal(a[hole], b[hole])
    np.testing.assert_array_equal(a[known], color[known])
    assert np.isfinite(a[hole]).all() and a[hole].min() >= 0 and a[hole].max() <= 255


def test_texture_continues_stripes_that_cross_the_boundary():
    """Stripes running into a wide hole keep running; the smooth fill blurs them to their mean."""
    color = stripes(w=128)
    known, hole = hole_right_of(40, w=128)
    inpainter = ClassicalInpainter()
    textured = inpainter.fill(color, known, hole)
    smooth = ClassicalInpainter(texture=False).fill(color, known, hole)
    far = np.zeros_like(hole)
    start = 38 + int(np.ceil(inpainter.ramp_start_px + inpainter.ramp_px))  # the copies fully on
    far[:, start : start + 25] = True
    err_textured = np.abs(textured - color)[far].mean()
    err_smooth = np.abs(smooth - color)[far].mean()
    assert err_textured < 0.25 * err_smooth, (err_textured, err_smooth)
    # The grain of the context: the textured fill varies as much as the stripes do.
    assert textured[far][:, 0].std() > 0.8 * color[known][:, 0].std()
    assert smooth[far][:, 0].std() < 0.5 * color[known][:, 0].std()


def test_texture_of_a_shallow_context_never_streaks():
    """Behind a foreground near the image's edge the context is a thin strip: no streaks beyond it.

    The mirror image of a hole pixel deeper than the strip lies outside the
    photo. Clamped to the border, every such pixel of a column would copy one
    border pixel: vertical streaks, as varied across the columns as the context.
    Mirrored again across the rows the first pass filled, they take the strip's
    texture instead.
    """
    rng = np.random.default_rng(1)
    h, w = 96, 64
    color = rng.uniform(60.0, 180.0, (h, w, 3)).astype(np.float32)
    known = np.zeros((h, w), bool)
    known[:30] = True  # a strip of 30 rows at the top of the photo
    hole = np.zeros((h, w), bool)
    hole[30:] = True
    out = ClassicalInpainter().fill(color, known, hole)
    grain = color[known][:, 0].std()
    far = out[64:, :, 0]  # the first mirror images of these rows lie above the photo
    assert far.std(axis=0).mean() > 0.8 * grain  # no streak: each column varies down the rows ...
    assert far.std(axis=1).mean() > 0.8 * grain  # ... and each row across the columns
    # Every textured pixel is a copy of a context pixel, never a blend of them.
    context_values = set(color[known][:, 0].tolist())
    assert set(far.ravel().tolist()) <= context_values


def test_texture_reaches_the_middle_of_a_hole_wider_than_its_context():
    """A hole twelve times as wide as the ring of context around it is textured to its centre."""
    rng = np.random.default_rng(2)
    color = rng.uniform(60.0, 180.0, (140, 140, 3)).astype(np.float32)
    hole = np.zeros((140, 140), bool)
    hole[10:130, 10:130] = True
    known = ~hole
    out = ClassicalInpainter().fill(color, known, hole)
    centre = out[45:95, 45:95, 0]  # 35 px and more from the context: copies fully on
    assert centre.std() > 0.8 * color[known][:, 0].std()
    assert set(centre.ravel().tolist()) <= set(color[known][:, 0].tolist())
    smooth = ClassicalInpainter(texture=False).fill(color, known, hole)
    assert smooth[45:95, 45:95, 0].std() < 0.2 * color[known][:, 0].std()


def test_texture_never_leaves_the_context_colours():
    color = stripes()
    color[..., 1] = 0.0  # no green in the context ...
    known, hole = hole_right_of(40)
    color[hole] = (255.0, 255.0, 255.0)  # ... and a white foreground in the hole
    out = ClassicalInpainter().fill(color, known, hole)
    assert out[hole][:, 1].max() == 0.0
    assert out[hole][:, 0].min() >= 60.0 and out[hole][:, 0].max() <= 180.0


def test_push_pull_reproduces_constants_and_context():
    values = np.full((33, 47, 3), 77.0, np.float32)
    context = np.zeros((33, 47), bool)
    context[5:9, 30:40] = True
    values[~context] = 0.0
    out = push_pull_fill(values, context)
    np.testing.assert_allclose(out, 77.0, atol=1e-3)
    assert push_pull_fill(values[..., 0], context).shape == (33, 47)


@pytest.mark.parametrize("shape", [(96, 64), (64, 96), (200, 3)])
def test_push_pull_reaches_the_far_end_of_an_elongated_image(shape):
    """Context at one end only: the fill is that constant all the way, not a fade to black."""
    values = np.full(shape + (3,), 77.0, np.float32)
    context = np.zeros(shape, bool)
    context[:5, :5] = True
    values[~context] = 0.0
    np.testing.assert_allclose(push_pull_fill(values, context), 77.0, atol=1e-3)


def test_nearest_seed_positions_and_distances():
    seeds = np.zeros((20, 30), bool)
    seeds[3, 4] = seeds[15, 25] = True
    dist, index, ys, xs = nearest_seed(seeds)
    iy, ix = ys[index], xs[index]
    assert (iy[:8, :10] == 3).all() and (ix[:8, :10] == 4).all()
    assert (iy[12:, 20:] == 15).all() and (ix[12:, 20:] == 25).all()
    assert dist[3, 4] == 0 and dist[3, 9] == pytest.approx(5.0, abs=0.1)
    with pytest.raises(ValueError):
        nearest_seed(np.zeros((4, 4), bool))


def test_plane_fits_continue_a_slanted_plane_and_fall_back_on_noise():
    h, w = 40, 60
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    plane = (0.3 + 0.002 * xs - 0.001 * ys).astype(np.float32)
    context = xs < 20
    seeds = np.zeros((h, w), bool)
    seeds[:, 19] = True
    _, index, sy, sx = nearest_seed(seeds)
    got = extrapolate_disparity(plane, context, index, sy, sx)
    np.testing.assert_allclose(got[:, 20:], plane[:, 20:], atol=1e-5)
    noisy = plane + np.random.default_rng(0).normal(0, 0.01, plane.shape).astype(np.float32)
    flat = extrapolate_disparity(noisy, context, index, sy, sx, max_residual=0.001)
    np.testing.assert_allclose(flat[:, 40], noisy[:, 19], atol=1e-6)  # not planar: continued at the seed's value


def test_make_inpainter_choices(tmp_path):
    assert make_inpainter(None).name == "classical"
    assert make_inpainter("smooth").name == "smooth"
    mine = ClassicalInpainter(ramp_px=20.0)
    assert make_inpainter(mine) is mine and isinstance(mine, Inpainter)
    with pytest.raises(Photo3DError, match="inpainter"):
        make_inpainter(str(tmp_path / "missing.pt"))


def test_make_inpainter_loads_a_torchscript_network(tmp_path):
    pytest.importorskip("torch")
    from tests.support.models import save_random_inpainter

    path = save_random_inpainter(tmp_path / "lama.pt")
    net = make_inpainter(str(path), device="cpu")
    assert net.name == "torchscript:lama.pt"
    color = stripes()
    known, hole = hole_right_of(40)
    out = net.fill(color, known, hole)
    np.testing.assert_array_equal(out[known], color[known])
    assert np.isfinite(out[hole]).all()
