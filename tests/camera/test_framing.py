"""Framing: format presets, the main subject, cover crops towards the subject, contain and letterbox."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from photo3d.camera.framing import (
    FORMAT_PRESETS,
    FRAMINGS,
    base_output_intrinsics,
    contain_size,
    edge_zoom,
    find_subject,
    format_preset,
    letterbox,
    zoom_about,
)
from photo3d.camera.intrinsics import Intrinsics, Pose, unproject_depth
from photo3d.errors import Photo3DError
from tests.support.helpers import raises_one_line

# --- presets -----------------------------------------------------------------------------------------------------


def test_format_presets_values():
    vertical = (1080, 1920, 30.0)
    assert FORMAT_PRESETS == {
        "tiktok": vertical,
        "reels": vertical,
        "shorts": vertical,
        "square": (1080, 1080, 30.0),
        "1080p": (1920, 1080, 30.0),
        "4k": (3840, 2160, 30.0),
    }
    assert format_preset("4K") == (3840, 2160, 30.0)
    assert format_preset(" Reels ") == vertical


def test_format_preset_unknown_lists_the_names():
    raises_one_line(format_preset, "imax", words=("imax", *FORMAT_PRESETS))


def test_framings():
    assert FRAMINGS == ("cover", "contain", "none")


# --- subject ------------------------------------------------------------------------------------------------------

H, W = 480, 640
BOX = (slice(200, 300), slice(400, 500))  # rows 200..299, columns 400..499: centroid (450, 250) in pixel coordinates


def _box_scene(seed: int = 0) -> np.ndarray:
    """A far plane tilted from 9 to 11 with 1 % noise, and a box at depth 2 off centre."""
    rng = np.random.default_rng(seed)
    depth = np.linspace(9.0, 11.0, W)[None, :] * np.ones((H, 1))
    depth *= 1.0 + 0.01 * rng.standard_normal((H, W))
    depth[BOX] = 2.0 * (1.0 + 0.002 * rng.standard_normal((100, 100)))
    return depth


def test_subject_is_the_near_box():
    subject = find_subject(_box_scene())
    assert subject.found
    assert subject.depth == pytest.approx(2.0, rel=0.01)
    assert abs(subject.x - 450.0) <= 2.0 and abs(subject.y - 250.0) <= 2.0
    # The mask covers the box's share of the image (the analysis grid is a 0.4x copy here) within 10 %.
    assert subject.mask is not None
    assert subject.mask.mean() == pytest.approx(100 * 100 / (H * W), rel=0.1)


def test_subject_ignores_a_single_near_outlier_pixel():
    depth = _box_scene()
    depth[40, 60] = 0.2  # one speck, ten times nearer than the box
    subject = find_subject(depth)
    assert subject.depth == pytest.approx(2.0, rel=0.01)
    assert abs(subject.x - 450.0) <= 2.0 and abs(subject.y - 250.0) <= 2.0


def test_plain_plane_gives_its_depth_even_with_a_speck():
    depth = np.full((H, W), 7.0)
    depth[10, 10] = 0.1
    subject = find_subject(depth)
    assert not subject.found and subject.mask is None
    assert subject.depth == pytest.approx(7.0, rel=1e-6)
    assert (subject.x, subject.y) == (W / 2, H / 2)


def test_centre_weight_prefers_the_central_of_two_equal_objects():
    depth = np.full((H, W), 10.0)
    depth[190:290, 270:370] = 3.0  # centred: centroid (320, 240)
    depth[0:100, 0:100] = 3.0  # same size and depth, in the corner
    subject = find_subject(depth)
    assert abs(subject.x - 320.0) <= 2.0 and abs(subject.y - 240.0) <= 2.0


def test_subject_ignores_invalid_pixels():
    depth = _box_scene()
    depth[:, :50] = np.nan
    depth[400:, :] = 0.0
    depth[0, 0] = -1.0
    subject = find_subject(depth)
    assert subject.depth == pytest.approx(2.0, rel=0.01)
    assert abs(subject.x - 450.0) <= 2.0


def test_subject_errors():
    raises_one_line(find_subject, np.full((8, 8), np.nan), words=("valid",))
    raises_one_line(find_subject, np.ones(8), words=("2-D",))


def test_subject_at_12_megapixels_is_accurate():
    """Works on a reduced copy (speed is measured in benchmarks, not asserted here)."""
    depth = np.full((3000, 4000), 10.0, dtype=np.float32)
    depth[1000:2000, 2500:3300] = 3.0  # centroid (2900, 1500)
    subject = find_subject(depth)
    assert subject.depth == pytest.approx(3.0, rel=0.01)
    stride = 4000 // 512  # the analysis stride: positions are good to about one stride
    assert abs(subject.x - 2900.0) <= stride and abs(subject.y - 1500.0) <= stride


def test_subject_on_real_cones(real_data):
    path = real_data / "mb2003_cones" / "disp2.png"
    if not path.exists():
        pytest.skip(f"{path} not found")
    disp = np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 4.0
    depth = np.where(disp > 0, 1.0 / np.maximum(disp, 1e-9), np.nan)  # gray 0 = unknown
    subject = find_subject(depth)
    assert np.nanmin(depth) <= subject.depth <= np.nanmax(depth)
    assert 0 <= subject.x <= depth.shape[1] and 0 <= subject.y <= depth.shape[0]


def test_subject_on_real_portrait_pug(real_data):
    path = real_data / "apple_portrait_pug" / "pug_depth.png"
    if not path.exists():
        pytest.skip(f"{path} not found")
    v = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    depth = 1.0 / (1.498047 + v / 255.0 * (4.382812 - 1.498047))  # MANIFEST: Apple uniform disparity, 1/m
    subject = find_subject(depth)
    assert subject.found
    assert depth.min() <= subject.depth <= depth.max()
    # The subject is nearer than the scene's median depth (the pug and the foreground, not the back wall).
    assert subject.depth < np.median(depth)


# --- cover towards the subject ------------------------------------------------------------------------------------


def _project_source_pixel(k_src: Intrinsics, k_out: Intrinsics, x: float, y: float, z: float = 3.0):
    """Output pixel coordinates of the point seen at source pixel coordinates (x, y) at depth z."""
    px, py = (x - k_src.cx) / k_src.fx * z, (y - k_src.cy) / k_src.fy * z
    return k_out.fx * px / z + k_out.cx, k_out.fy * py / z + k_out.cy


@pytest.mark.parametrize("cx_src", [320.0, 331.5])
def test_cover_puts_the_subject_at_the_frame_centre_or_clamps(cx_src):
    k = Intrinsics(640, 480, 600.0, 600.0, cx_src, 240.0)  # 4:3 landscape
    s = 4.0  # max(1080 / 640, 1920 / 480): the window is 270 x 480 source pixels
    half = 1080 / s / 2  # 135
    for x, y in [(450.0, 100.0), (200.0, 400.0), (320.0, 240.0)]:
        out = base_output_intrinsics(k, 1080, 1920, "cover", subject=(x, y))
        assert (out.width, out.height, out.fx, out.fy) == (1080, 1920, 600.0 * s, 600.0 * s)
        assert out.cx == pytest.approx(540.0 + (cx_src - x) * s)
        assert out.cy == pytest.approx(960.0 + (240.0 - 240.0) * s)  # the window spans the whole height
        u, _ = _project_source_pixel(k, out, x, y)
        assert u == pytest.approx(540.0, abs=1e-9)
    # Too near the right border: the window's right side sits on the photo's right edge.
    out = base_output_intrinsics(k, 1080, 1920, "cover", subject=(620.0, 240.0))
    assert out.cx == pytest.approx(540.0 + (cx_src - (640.0 - half)) * s)
    assert _project_source_pixel(k, out, 640.0, 240.0)[0] == pytest.approx(1080.0, abs=1e-9)
    # And the left.
    out = base_output_intrinsics(k, 1080, 1920, "cover", subject=(3.0, 240.0))
    assert _project_source_pixel(k, out, 0.0, 240.0)[0] == pytest.approx(0.0, abs=1e-9)
    # No subject: centred as before.
    out = base_output_intrinsics(k, 1080, 1920, "cover")
    assert out.cx == pytest.approx(540.0 + (cx_src - 320.0) * s)


def test_cover_slides_vertically_for_a_wide_frame():
    k = Intrinsics.from_fov(640, 480)
    s = 1920 / 640  # 3: the window is 640 x 360 source pixels
    out = base_output_intrinsics(k, 1920, 1080, "cover", subject=(100.0, 200.0))
    assert out.cx == pytest.approx(960.0)  # the window spans the whole width
    assert out.cy == pytest.approx(540.0 + (240.0 - 200.0) * s)
    out = base_output_intrinsics(k, 1920, 1080, "cover", subject=(100.0, 470.0))
    assert _project_source_pixel(k, out, 0.0, 480.0)[1] == pytest.approx(1080.0, abs=1e-9)


def test_subject_feeds_the_cover_crop():
    depth = _box_scene()
    k = Intrinsics.from_fov(W, H)
    out = base_output_intrinsics(k, 1080, 1920, "cover", subject=find_subject(depth).position)
    u, v = _project_source_pixel(k, out, 450.0, 250.0)
    assert abs(u - 540.0) <= 2.0 * 4.0  # 2 source pixels of subject error, times the scale 4


def test_zoom_about_the_output_centre_hides_the_border_of_a_slid_window():
    k = Intrinsics.from_fov(256, 192)
    depth = np.full((192, 256), 2.0)
    base = base_output_intrinsics(k, 180, 320, "cover", subject=(200.0, 96.0))
    centre = (90.0, 160.0)
    assert base.cx != pytest.approx(centre[0])  # the principal point is off the frame centre
    poses = [Pose.translation(x, 0.0, 0.0) for x in (0.0, 0.05, -0.05)]
    zoom = edge_zoom(depth, k, [(p, base) for p in poses], max_zoom=3.0, center=centre)
    assert 1.0 < zoom < 3.0
    zk = zoom_about(base, zoom, centre)
    assert (zk.fx, zk.fy) == pytest.approx((base.fx * zoom, base.fy * zoom))
    # The output centre is the fixed point of the zoom: it sees the same ray before and after.
    assert (centre[0] - zk.cx) / zk.fx == pytest.approx((centre[0] - base.cx) / base.fx)
    points = unproject_depth(depth, k).astype(np.float64)
    for pose in poses:
        for side, column in (("left", 0), ("right", -1)):
            q = points[:, column] - pose.position
            u = zk.fx * q[:, 0] / q[:, 2] + zk.cx
            if side == "left":
                assert u.max() <= 1e-6
            else:
                assert u.min() >= zk.width - 1e-6
    # Without the zoom the right edge shows after the move to x = +0.05 (the window ends 2 px from it).
    q = points[:, -1] - poses[1].position
    assert (base.fx * q[:, 0] / q[:, 2] + base.cx).min() < base.width


def test_zoom_about_the_principal_point_is_zoomed():
    k = Intrinsics(100, 80, 90.0, 95.0, 47.0, 41.0)
    assert zoom_about(k, 1.3, (k.cx, k.cy)) == k.zoomed(1.3)


# --- contain and letterbox ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "out", "expected"),
    [
        ((640, 480), (1080, 1920), (1080, 810)),  # s = 1.6875, width-limited
        ((4000, 3000), (1920, 1080), (1440, 1080)),  # s = 0.36, height-limited
        ((1000, 333), (1920, 1080), (1920, 640)),  # 639.36 rounds to the nearest even number
        ((640, 480), (640, 480), (640, 480)),  # same size
    ],
)
def test_contain_size(src, out, expected):
    assert contain_size(Intrinsics.from_fov(*src), *out) == expected


def test_contain_size_is_even_and_close():
    rng = np.random.default_rng(1)
    for _ in range(200):
        sw, sh = (int(v) for v in rng.integers(17, 5000, size=2))
        ow, oh = (2 * int(v) for v in rng.integers(8, 2000, size=2))
        s = min(ow / sw, oh / sh)
        w, h = contain_size(Intrinsics.from_fov(sw, sh), ow, oh)
        assert w % 2 == 0 and h % 2 == 0 and 2 <= w <= ow and 2 <= h <= oh
        assert abs(w - sw * s) <= 1.0 + 1e-9 and abs(h - sh * s) <= 1.0 + 1e-9


def test_contain_intrinsics_show_the_whole_photo():
    k = Intrinsics.from_fov(640, 480)
    out = base_output_intrinsics(k, 1080, 1920, "contain")
    assert (out.width, out.height) == (1080, 810)
    for x, y, ex, ey in [(0.0, 0.0, 0.0, 0.0), (640.0, 480.0, 1080.0, 810.0)]:
        u, v = _project_source_pixel(k, out, x, y)
        assert abs(u - ex) <= 1.0 and abs(v - ey) <= 1.0


def test_letterbox_centres_the_frame():
    frame = np.full((810, 1080, 3), 200, dtype=np.uint8)
    out = letterbox(frame, 1080, 1920, color=(1, 2, 3))
    assert out.shape == (1920, 1080, 3) and out.dtype == np.uint8
    top = (1920 - 810) // 2  # 555
    assert (out[top : top + 810] == 200).all()
    assert (out[:top] == [1, 2, 3]).all() and (out[top + 810 :] == [1, 2, 3]).all()
    # Pillarbox, odd margin: the extra column goes to the right.
    out = letterbox(np.ones((4, 3), dtype=np.float32), 6, 4, color=0)
    np.testing.assert_array_equal(out[:, 1:4], 1.0)
    assert (out[:, 0] == 0).all() and (out[:, 4:] == 0).all()


def test_letterbox_rgba_and_errors():
    frame = np.zeros((2, 2, 4), dtype=np.uint8)
    out = letterbox(frame, 4, 2, color=(9, 9, 9))
    np.testing.assert_array_equal(out[0, 0], [9, 9, 9, 255])
    with pytest.raises(ValueError):
        letterbox(np.zeros((5, 5, 3), np.uint8), 4, 8)
    with pytest.raises(ValueError):
        letterbox(np.zeros((2, 2, 3), np.uint8), 4, 8, color=(1, 2))


def test_contain_is_accepted_and_unknown_still_fails():
    k = Intrinsics.from_fov(64, 48)
    assert base_output_intrinsics(k, 64, 64, "contain").height == 48
    with pytest.raises(Photo3DError):
        base_output_intrinsics(k, 64, 48, "fill")
