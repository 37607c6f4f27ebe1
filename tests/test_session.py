"""The session: scenes from arrays, frames in memory equal to the written video's, one Studio for many photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import photo3d
from photo3d.camera.trajectory_files import parse_trajectory
from photo3d.errors import Photo3DError
from photo3d.sample import make_sample_scene
from tests.support.helpers import raises_one_line

pytestmark = pytest.mark.gl


@pytest.fixture(scope="module")
def sample():
    return make_sample_scene(160, 120)


def _near_cut_mask(ldi) -> np.ndarray:
    """Pixels next to a cut of the LDI's first layer, 3x3 dilated (where the identity view may differ)."""
    cut_r, cut_d = ldi.cuts
    near = np.zeros(ldi.depth.shape[1:], bool)
    near[:, :-1] |= cut_r
    near[:, 1:] |= cut_r
    near[:-1, :] |= cut_d
    near[1:, :] |= cut_d
    return cv2.dilate(near.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def test_notebook_identity_frame_equals_the_photo(gl, sample):
    """Arrays in, frames out: the first frame of a still camera is the photo (the renderer's identity tolerance)."""
    scene = photo3d.Scene.from_arrays(sample.image, sample.depth, kind="depth", focal_px=sample.intrinsics.fx)
    still = parse_trajectory({"trajectory": {}, "keyframe": [{"t": 0.0, "position": [0.0, 0.0, 0.0]}]}, "still")
    settings = photo3d.RenderSettings(trajectory=still, frames=2, framing="none", ssaa=1, simplify=0)
    with photo3d.Studio(context=gl) as studio:
        clip = studio.prepare(scene, settings)
        frames = list(studio.frames(clip))
    assert len(frames) == 2 and frames[0].shape == sample.image.shape and frames[0].dtype == np.uint8
    np.testing.assert_array_equal(frames[0], frames[1])
    out, ref = frames[0].astype(int)[:-1, :-1], sample.image.astype(int)[:-1, :-1]
    away = ~_near_cut_mask(clip.ldi)[:-1, :-1]
    assert np.abs(out - ref)[away].max() <= 1  # as the renderer's identity test: exact away from depth edges
    mse = np.mean((out - ref) ** 2.0)
    assert 10 * np.log10(255**2 / mse) > 30.0


def test_render_frames_equal_the_written_png_frames(gl, sample, tmp_path):
    scene = photo3d.Scene(sample.image, sample.depth, sample.intrinsics)
    settings = photo3d.RenderSettings(trajectory="swing", frames=4, size=(96, 64), framing="contain")
    with photo3d.Studio(context=gl) as studio:
        frames = list(studio.frames(scene, settings))
        report = studio.render_clip(scene, tmp_path / "frames", settings)
    written = sorted((tmp_path / "frames").glob("*.png"))
    assert len(written) == len(frames) == report.frames == 4
    for frame, path in zip(frames, written, strict=True):
        assert frame.shape == (64, 96, 3)
        np.testing.assert_array_equal(frame, cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))
    assert frames[0][:, :3].max() == 0 and frames[0][:, -3:].max() == 0  # contain: a 4:3 photo in a 3:2 frame
    assert not np.array_equal(frames[0], frames[1])  # the camera moves


def test_frames_of_chosen_indices_are_the_clips_frames(gl, sample):
    scene = photo3d.Scene(sample.image, sample.depth, sample.intrinsics)
    settings = photo3d.RenderSettings(trajectory="circle", frames=6, size=(80, 60))
    with photo3d.Studio(context=gl) as studio:
        clip = studio.prepare(scene, settings)
        every = list(studio.frames(clip))
        chosen = list(studio.frames(clip, indices=[4, 1]))
        with pytest.raises(IndexError):
            list(studio.frames(clip, indices=[6]))
    np.testing.assert_array_equal(chosen[0], every[4])
    np.testing.assert_array_equal(chosen[1], every[1])


def test_stereo_frames_compose_both_eyes(gl, sample):
    scene = photo3d.Scene(sample.image, sample.depth, sample.intrinsics)
    settings = photo3d.RenderSettings(trajectory="dolly", frames=2, size=(160, 60), stereo="sbs")
    with photo3d.Studio(context=gl) as studio:
        clip = studio.prepare(scene, settings)
        left, right = clip.frame_cameras(0)
        frame = next(iter(studio.frames(clip, indices=[0])))
    assert frame.shape == (60, 160, 3) and len(clip.cameras) == 4
    assert left[0].position[0] < right[0].position[0]  # left eye on the left
    assert not np.array_equal(frame[:, :80], frame[:, 80:])  # the eyes see different views


def test_one_studio_keeps_its_context_for_many_photos(tmp_path):
    a, b = make_sample_scene(96, 64), make_sample_scene(64, 96)
    settings = photo3d.RenderSettings(trajectory="dolly", frames=2)
    with photo3d.Studio() as studio:
        first = studio.render_clip(photo3d.Scene(a.image, a.depth, a.intrinsics), tmp_path / "a.png", settings)
        context = studio.context
        second = studio.render_clip(photo3d.Scene(b.image, b.depth, b.intrinsics), tmp_path / "b.png", settings)
        assert studio.context is context
        assert first.size == (96, 64) and second.size == (64, 96) and first.frames == second.frames == 1
    assert studio._context is None  # released on close
    assert cv2.imread(str(tmp_path / "b.png")).shape == (96, 64, 3)


def test_studio_reuses_an_inpainter_it_made(gl):
    with photo3d.Studio(context=gl) as studio:
        assert studio._inpainter("classical", None) is studio._inpainter("classical", None)
        assert studio._inpainter("smooth", None) is not studio._inpainter("classical", None)


def test_studio_loads_photos_with_its_depth_settings(tmp_path, gl):
    s = make_sample_scene(96, 64)
    cv2.imwrite(str(tmp_path / "p.png"), cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR))
    np.save(tmp_path / "d.npy", s.depth)
    options = photo3d.DepthOptions(kind="depth", scale=2.0)
    with photo3d.Studio(photo3d.DepthSettings(options=options), context=gl) as studio:
        scene = studio.load(tmp_path / "p.png", tmp_path / "d.npy")
    np.testing.assert_allclose(scene.depth, 2.0 * s.depth, rtol=1e-6)  # the studio's options applied to the file
    np.testing.assert_array_equal(scene.image, s.image)


# --- Scene.from_arrays ---------------------------------------------------------------------------------------------


def test_from_arrays_disparity_puts_the_nearest_pixel_at_one():
    image = np.zeros((4, 6, 3), np.uint8)
    disparity = np.tile(np.array([4.0, 2.0, 1.0, 4.0, 2.0, 1.0], np.float32), (4, 1))
    scene = photo3d.Scene.from_arrays(image, disparity, kind="disparity")
    np.testing.assert_allclose(scene.depth[0], [1, 2, 4, 1, 2, 4])
    assert scene.intrinsics.fx == pytest.approx(6.0)  # default fov: f = the longer side
    assert photo3d.Scene.from_arrays(image, disparity, kind="disparity", focal_px=10).intrinsics.fx == 10


def test_from_arrays_distance_becomes_planar_depth():
    image = np.zeros((30, 40, 3), np.uint8)
    k = photo3d.Intrinsics.from_fov(40, 30, 70.0)
    from photo3d.camera.intrinsics import pixel_rays

    xn, yn = pixel_rays(k)
    distance = 3.0 * np.sqrt(1 + xn.astype(np.float64) ** 2 + yn**2)  # a wall at z = 3
    distance[::3, ::5] += np.linspace(0, 1, distance[::3, ::5].size).reshape(distance[::3, ::5].shape)
    scene = photo3d.Scene.from_arrays(image, distance, kind="distance", fov=70.0)
    wall = np.ones((30, 40), bool)
    wall[::3, ::5] = False
    np.testing.assert_allclose(scene.depth[wall], 3.0, rtol=1e-5)


def test_from_arrays_upsamples_a_smaller_map_and_fills_invalid_values():
    s = make_sample_scene(96, 64)
    small = cv2.resize(s.depth, (48, 32), interpolation=cv2.INTER_NEAREST)
    small[0, 0] = np.nan
    scene = photo3d.Scene.from_arrays(s.image, small)
    assert scene.depth.shape == (64, 96) and np.isfinite(scene.depth).all() and (scene.depth > 0).all()
    lo, hi = float(np.nanmin(small)), float(np.nanmax(small))
    assert lo * (1 - 1e-5) <= scene.depth.min() and scene.depth.max() <= hi * (1 + 1e-5)
    assert np.median(np.abs(scene.depth / s.depth - 1)) < 0.01  # the full-size scene, recovered


@pytest.mark.parametrize(
    ("image", "depth", "kwargs", "words"),
    [
        (np.zeros((4, 6), np.uint8), np.ones((4, 6)), {}, ("(H, W, 3) uint8",)),
        (np.zeros((4, 6, 3), np.float32), np.ones((4, 6)), {}, ("(H, W, 3) uint8",)),
        (np.zeros((4, 6, 3), np.uint8), np.ones((4, 6, 2)), {}, ("(h, w) array",)),
        (np.zeros((4, 6, 3), np.uint8), np.full((4, 6), "a"), {}, ("real numbers",)),
        (np.zeros((4, 6, 3), np.uint8), np.ones((4, 6)), {"kind": "inverse"}, ("depth, disparity or distance",)),
        (np.zeros((4, 6, 3), np.uint8), np.zeros((4, 6)), {}, ("no valid pixel",)),
        (np.zeros((4, 6, 3), np.uint8), np.ones((6, 4)), {}, ("aspect ratios differ",)),
        (np.zeros((4, 6, 3), np.uint8), np.ones((4, 6)), {"focal_px": -1.0}, ("focal_px",)),
    ],
)
def test_from_arrays_refuses_bad_input_in_one_line(image, depth, kwargs, words):
    raises_one_line(photo3d.Scene.from_arrays, image, depth, words=words, **kwargs)


def test_trajectory_objects_and_names_give_the_same_cameras(sample):
    scene = photo3d.Scene(sample.image, sample.depth, sample.intrinsics)
    by_name = photo3d.RenderSettings(trajectory="swing", frames=5)
    by_object = photo3d.RenderSettings(trajectory=photo3d.load_trajectory("swing"), frames=5)
    from photo3d.pipeline import plan_cameras

    for (p, k), (q, j) in zip(plan_cameras(scene, by_name), plan_cameras(scene, by_object), strict=True):
        np.testing.assert_array_equal(p.position, q.position)
        assert k == j


def test_render_clip_without_video_writes_the_full_mesh(tmp_path, sample):
    scene = photo3d.Scene(sample.image, sample.depth, sample.intrinsics)
    report = photo3d.render_clip(scene, None, photo3d.RenderSettings(frames=3), ply=tmp_path / "m.ply")
    assert report.frames == 0 and report.faces_full == report.faces > 0
    assert (tmp_path / "m.ply").stat().st_size > 0
    with pytest.raises(Photo3DError):
        photo3d.render_clip(scene, tmp_path / "x.mp4", photo3d.RenderSettings(simplify=-1))
