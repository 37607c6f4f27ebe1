"""Alpha mattes on trimaps (photo3d.ldi.matte): a known soft edge comes back, unsolvable tiles say so."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from photo3d import runtime
from photo3d.ldi.matte import UNKNOWN, estimate_matte

FG = np.array([210.0, 40.0, 40.0])
BG = np.array([30.0, 90.0, 200.0])


def soft_edge(h: int = 48, w: int = 64, width: float = 4.0):
    """A vertical edge whose alpha falls linearly from 1 to 0 over ``width`` px around column 32, and its trimap."""
    rng = np.random.default_rng(3)
    x = np.arange(w, dtype=np.float64)
    alpha = np.clip((32.0 - x) / width + 0.5, 0.0, 1.0)[None, :].repeat(h, 0)
    fg = FG + rng.normal(0, 6, (h, w, 3))
    bg = BG + rng.normal(0, 6, (h, w, 3))
    image = np.clip(np.rint(alpha[..., None] * fg + (1 - alpha[..., None]) * bg), 0, 255).astype(np.uint8)
    trimap = np.where(x < 26, 1.0, np.where(x > 38, 0.0, UNKNOWN))[None, :].repeat(h, 0).astype(np.float32)
    return image, trimap, alpha


def test_a_soft_edge_gets_its_alpha_and_colours_back():
    image, trimap, alpha = soft_edge()
    matte = estimate_matte(image, trimap, tile=32)
    unknown = trimap == UNKNOWN
    assert (matte.unknown == unknown).all()
    err = np.abs(matte.alpha - alpha)[unknown]
    assert err.max() < 0.12 and err.mean() < 0.04
    # Decontaminated: where the pixel is at least a quarter foreground, its foreground colour is the foreground's.
    mixed = unknown & (alpha > 0.25) & (alpha < 0.75)
    assert mixed.sum() >= 48
    assert np.abs(matte.foreground[mixed] - FG).max() < 30
    assert np.abs(matte.background[mixed] - BG).max() < 30
    composite = matte.alpha[..., None] * matte.foreground + (1 - matte.alpha[..., None]) * matte.background
    assert np.abs(composite - image)[unknown].mean() < 3
    # Known pixels keep the trimap and the photo.
    assert (matte.alpha[~unknown] == trimap[~unknown]).all()
    assert (matte.foreground[~unknown] == image[~unknown]).all()
    # Alpha alone: the same alpha, and the photo's colours.
    bare = estimate_matte(image, trimap, tile=32, colors=False)
    np.testing.assert_array_equal(bare.alpha, matte.alpha)
    assert (bare.foreground == image).all() and (bare.background == image).all()


def test_a_tile_without_known_background_is_left_unsolved():
    image, trimap, _ = soft_edge()
    trimap[trimap == 0.0] = UNKNOWN  # nothing is known background any more
    matte = estimate_matte(image, trimap, tile=16)
    unknown = trimap == UNKNOWN
    assert np.isnan(matte.alpha[unknown]).all()
    assert (matte.background[unknown] == image[unknown]).all()


def test_a_crop_mostly_unknown_is_left_unsolved():
    image, trimap, _ = soft_edge()
    x = np.arange(trimap.shape[1])[None, :].repeat(trimap.shape[0], 0)
    trimap[(x >= 8) & (x < 56)] = UNKNOWN  # three quarters of the only tile: too few constraints
    assert np.isnan(estimate_matte(image, trimap, tile=64).alpha[trimap == UNKNOWN]).all()
    trimap[(x >= 8) & (x < 26)] = 1.0  # under half: solved
    assert np.isfinite(estimate_matte(image, trimap, tile=64).alpha).all()


def test_bad_arguments_name_the_problem():
    image, trimap, _ = soft_edge()
    with pytest.raises(ValueError, match="image is .* but the trimap is"):
        estimate_matte(image[:10], trimap)
    with pytest.raises(ValueError, match="tile must be at least 16"):
        estimate_matte(image, trimap, tile=8)


def test_the_solver_preloaded_on_a_thread_gives_the_same_matte(tmp_path):
    """preload_solver imports pymatting in the background; estimate_matte waits for it and matches a plain run."""
    image, trimap, _ = soft_edge()
    expected = estimate_matte(image, trimap, tile=32).alpha
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from photo3d.ldi import matte\n"
        "assert 'pymatting' not in sys.modules\n"
        "matte.preload_solver()\n"
        "thread = matte._preloading\n"
        "assert thread is not None and thread.name == 'photo3d-preload'\n"
        "matte.preload_solver()\n"
        "assert matte._preloading is thread  # one import at most\n"
        "data = np.load(sys.argv[1])\n"
        "np.save(sys.argv[2], matte.estimate_matte(data['image'], data['trimap'], tile=32).alpha)\n"
        "assert 'pymatting' in sys.modules\n"
    )
    inputs, output = tmp_path / "in.npz", tmp_path / "alpha.npy"
    np.savez(inputs, image=image, trimap=trimap)
    run = subprocess.run([sys.executable, "-c", code, str(inputs), str(output)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "" and run.stdout == ""
    np.testing.assert_array_equal(np.load(output), expected)


def test_tiles_solved_on_several_threads_give_the_matte_of_one(monkeypatch, capsys):
    """Each thread writes only inside its tile: the result does not depend on the thread count."""
    image, trimap, _ = soft_edge(h=160, w=64)
    trimap[:, :4] = 0.0  # a second edge, so tiles differ
    trimap[:, 4:10] = UNKNOWN
    stdout = sys.stdout
    mattes = []
    for workers in (1, 3):
        monkeypatch.setattr(runtime, "num_workers", lambda workers=workers: workers)
        mattes.append(estimate_matte(image, trimap, tile=16))
    assert sys.stdout is stdout and capsys.readouterr().out == ""
    one, several = mattes
    assert np.isfinite(one.alpha).sum() > 0.9 * trimap.size
    np.testing.assert_array_equal(several.alpha, one.alpha)
    np.testing.assert_array_equal(several.foreground, one.foreground)
    np.testing.assert_array_equal(several.background, one.background)
