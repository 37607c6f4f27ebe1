"""Analytic checks of the synthetic ray-cast scenes (benchmarks.synthetic)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.synthetic import (
    SCENE_NAMES,
    Box,
    Cylinder,
    Rect,
    Sphere,
    SyntheticScene,
    Texture,
    cast_rays,
    render_source,
    render_view,
    scene_catalog,
)
from photo3d.camera.intrinsics import Intrinsics, Pose, look_at_rotation, unproject_depth
from photo3d.errors import Photo3DError

WHITE = Texture("solid", ((255, 255, 255),), shading=False)
BLACK = Texture("solid", ((0, 0, 0),), shading=False)


def wall(z: float, texture: Texture = BLACK) -> Rect:
    """A fronto-parallel wall at depth ``z`` far wider than any test view."""
    return Rect((-50.0, -50.0, z), (100.0, 0.0, 0.0), (0.0, 100.0, 0.0), texture)


def fronto_rect(x0: float, x1: float, y0: float, y1: float, z: float, texture: Texture = WHITE) -> Rect:
    return Rect((x0, y0, z), (x1 - x0, 0.0, 0.0), (0.0, y1 - y0, 0.0), texture)


def rays64(k: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """Normalised float64 coordinates of the pixel centres, (H, W) each."""
    xn = (np.arange(k.width) + 0.5 - k.cx) / k.fx
    yn = (np.arange(k.height) + 0.5 - k.cy) / k.fy
    return np.meshgrid(xn, yn)


def sphere_depth(xn: np.ndarray, yn: np.ndarray, centre, radius: float) -> np.ndarray:
    """Planar depth of the nearer intersection of the ray (xn, yn, 1) with a sphere (inf for a miss)."""
    d = np.stack([xn, yn, np.ones_like(xn)], -1).astype(np.float64)
    c = np.asarray(centre, dtype=np.float64)
    a = (d * d).sum(-1)
    b = -2.0 * (d @ c)
    disc = b * b - 4.0 * a * (c @ c - radius**2)
    with np.errstate(invalid="ignore"):
        t = (-b - np.sqrt(disc)) / (2.0 * a)
    return np.where(disc >= 0, t, np.inf)


def test_fronto_parallel_rect_depth_is_exact():
    k = Intrinsics.from_fov(64, 48)
    x0, x1, y0, y1, z = -0.43, 0.37, -0.29, 0.21, 3.0
    scene = SyntheticScene("t", (fronto_rect(x0, x1, y0, y1, z), wall(6.0)))
    view = render_view(scene, k, samples=1)
    xn, yn = rays64(k)
    x, y = xn * z, yn * z
    inside = (x > x0) & (x < x1) & (y > y0) & (y < y1)
    assert 100 < inside.sum() < inside.size - 100
    assert (view.depth[inside] == np.float32(z)).all()
    assert (view.depth[~inside] == np.float32(6.0)).all()
    assert (view.object_id == np.where(inside, 0, 1)).all()
    assert view.depth.dtype == np.float32 and view.object_id.dtype == np.int16 and view.image.dtype == np.uint8
    assert view.image.shape == (48, 64, 3)


def test_sphere_centre_pixel_depth_is_centre_minus_radius():
    k = Intrinsics.from_fov(65, 49)  # odd size: the centre pixel's ray is the optical axis
    c, r = (0.0, 0.0, 4.0), 0.7
    scene = SyntheticScene("t", (Sphere(c, r), wall(9.0)))
    view = render_view(scene, k, samples=1)
    assert view.depth[24, 32] == pytest.approx(c[2] - r, rel=1e-6)
    xn, yn = rays64(k)
    expected = sphere_depth(xn, yn, c, r)
    hit = np.isfinite(expected)
    assert hit.sum() > 100
    np.testing.assert_allclose(view.depth[hit], expected[hit], rtol=1e-6)
    assert (view.depth[~hit] == 9.0).all()
    assert (view.object_id == np.where(hit, 0, 1)).all()


def test_cylinder_and_box_front_depths():
    k = Intrinsics.from_fov(65, 49)
    pole = Cylinder((0.0, 2.5), (-0.3, 0.3), 0.2)
    box = Box((0.35, -0.4, 3.0), (0.8, 0.4, 3.5))
    scene = SyntheticScene("t", (pole, box, wall(7.0)))
    view = render_view(scene, k, samples=1)
    # The optical axis meets the pole's side head-on.
    assert view.depth[24, 32] == pytest.approx(2.5 - 0.2, rel=1e-6)
    assert view.object_id[24, 32] == 0
    xn, yn = rays64(k)
    on_front = (xn * 3.0 > 0.36) & (xn * 3.0 < 0.79) & (np.abs(yn * 3.0) < 0.39)
    assert on_front.sum() > 20
    assert (view.depth[on_front] == np.float32(3.0)).all()
    assert (view.object_id[on_front] == 1).all()
    # Above the pole's top cap (y < -0.3 at its front) the axis column sees the wall.
    above = (np.abs(xn) < 1e-6) & (yn * 2.3 < -0.35)
    assert above.any() and (view.depth[above] == 7.0).all()


def test_slanted_plane_disparity_is_affine_in_pixels_and_a_sphere_is_not():
    k = Intrinsics.from_fov(80, 60)
    slanted = Rect((-1.0, -0.8, 2.0), (2.0, 0.0, 1.5), (0.0, 1.6, 0.8))
    scene = SyntheticScene("t", (slanted, Sphere((0.0, 0.0, 4.0), 1.5), wall(12.0)))

    def affine_residual(view, object_index):
        v, u = np.nonzero(view.object_id == object_index)
        disparity = 1.0 / view.depth[v, u].astype(np.float64)
        a = np.stack([u + 0.5, v + 0.5, np.ones(u.shape)], -1)
        coef, *_ = np.linalg.lstsq(a, disparity, rcond=None)
        assert len(u) > 300
        return np.abs(a @ coef - disparity).max() / disparity.mean()

    assert affine_residual(render_view(scene, k, samples=1), 0) < 1e-6
    hidden = SyntheticScene("t", (scene.objects[1], scene.objects[2]))
    assert affine_residual(render_view(hidden, k, samples=1), 0) > 1e-3  # a curved surface fails the same check


@pytest.mark.parametrize("samples", [2, 3, 4])
def test_supersampled_silhouette_mixes_exactly_the_covered_fraction(samples):
    k = Intrinsics.from_focal(40, 30, 40.0)
    x0, x1, y0, y1, z = -0.31, 0.27, -0.23, 0.41, 2.0  # edges fall inside pixels, not on their borders
    scene = SyntheticScene("t", (fronto_rect(x0, x1, y0, y1, z), wall(5.0)))
    view = render_view(scene, k, samples=samples)
    offsets = (np.arange(samples) + 0.5) / samples
    u = (np.arange(k.width)[:, None] + offsets).reshape(-1)
    v = (np.arange(k.height)[:, None] + offsets).reshape(-1)
    x, y = (u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z
    inside = (y[:, None] > y0) & (y[:, None] < y1) & (x[None, :] > x0) & (x[None, :] < x1)
    coverage = inside.reshape(k.height, samples, k.width, samples).mean(axis=(1, 3))
    np.testing.assert_array_equal(view.image, np.rint(coverage * 255.0).astype(np.uint8)[..., None].repeat(3, -1))
    edge = (coverage > 0) & (coverage < 1)
    assert edge.sum() > 20
    grey = view.image[..., 0]
    assert ((grey > 0) & (grey < 255))[edge].all()
    assert (grey[coverage == 1] == 255).all() and (grey[coverage == 0] == 0).all()
    # Depth and id stay hard: from the pixel-centre ray only, identical to a one-sample render.
    centre = render_view(scene, k, samples=1)
    np.testing.assert_array_equal(view.depth, centre.depth)
    np.testing.assert_array_equal(view.object_id, centre.object_id)
    assert set(np.unique(view.depth)) == {np.float32(2.0), np.float32(5.0)}


def test_object_id_is_the_nearest_object():
    k = Intrinsics.from_fov(80, 60)
    near = fronto_rect(-0.5, 0.3, -0.4, 0.2, 2.0)  # listed after the far ones on purpose
    far = fronto_rect(-0.2, 1.2, -0.7, 0.6, 3.5)
    ball = Sphere((-0.5, 0.3, 3.0), 0.6)
    scene = SyntheticScene("t", (wall(8.0), far, ball, near))
    view = render_view(scene, k, samples=1)
    xn, yn = rays64(k)

    def rect_depth(x0, x1, y0, y1, z):
        return np.where((xn * z > x0) & (xn * z < x1) & (yn * z > y0) & (yn * z < y1), z, np.inf)

    depths = np.stack(
        [
            np.full(xn.shape, 8.0),
            rect_depth(-0.2, 1.2, -0.7, 0.6, 3.5),
            sphere_depth(xn, yn, (-0.5, 0.3, 3.0), 0.6),
            rect_depth(-0.5, 0.3, -0.4, 0.2, 2.0),
        ]
    )
    expected = np.argmin(depths, axis=0)
    assert set(np.unique(expected)) == {0, 1, 2, 3}
    np.testing.assert_array_equal(view.object_id, expected)
    np.testing.assert_allclose(view.depth, depths.min(axis=0), rtol=1e-6)


@pytest.mark.parametrize(
    "pose",
    [
        Pose.translation(0.25, -0.15, 0.35),
        Pose(look_at_rotation(np.array([-0.3, 0.1, 0.2]), np.array([0.4, 0.2, 5.0])), np.array([-0.3, 0.1, 0.2])),
    ],
    ids=["translated", "rotated"],
)
def test_novel_view_depth_reprojects_onto_the_source(pose):
    scene, k = scene_catalog(96, 72)["nested"]
    view = render_view(scene, k, pose, samples=1)
    points = unproject_depth(view.depth, k).reshape(-1, 3).astype(np.float64) @ pose.rotation.T + pose.position
    # Cast from the source centre towards each point: a point seen by both cameras is hit at t = 1,
    # i.e. the source's depth there is the point's z; an occluded one is hit earlier (t < 1); nothing
    # lies beyond it except where a view ray grazes a silhouette edge.
    t, _ = cast_rays(scene, (0.0, 0.0, 0.0), points)
    covisible = np.abs(t - 1.0) < 1e-4
    assert covisible.mean() > 0.8
    assert (t < 1.0 - 1e-4).sum() > 20  # the move reveals some of what the source cannot see
    assert (t <= 1.0 + 1e-4).all()
    # The same through render_view itself: a 1x1 source camera whose only pixel centre looks at the point.
    rng = np.random.default_rng(0)
    for index in rng.choice(np.flatnonzero(covisible), 25, replace=False):
        p = points[index]
        one = Intrinsics(1, 1, k.fx, k.fy, 0.5 - k.fx * p[0] / p[2], 0.5 - k.fy * p[1] / p[2])
        source_depth = render_view(scene, one, samples=1).depth[0, 0]
        assert source_depth == pytest.approx(p[2], rel=1e-4)
        if np.array_equal(pose.rotation, np.eye(3)):  # a pure translation: view depth = source depth - move in z
            assert view.depth.reshape(-1)[index] == pytest.approx(source_depth - pose.position[2], rel=1e-4)


POSES = [Pose.identity()] + [Pose.translation(sx * 0.3, sy * 0.2, 0.4) for sx in (-1, 1) for sy in (-1, 1)]


@pytest.mark.parametrize("name", SCENE_NAMES)
def test_catalog_scene_is_enclosed_and_in_range(name):
    scene, k = scene_catalog(64, 48)[name]
    assert scene.name == name and scene.description
    assert (k.fx, k.fy, k.cx, k.cy) == pytest.approx((64.0, 64.0, 32.0, 24.0))
    for pose in POSES:
        view = render_view(scene, k, pose, samples=1)
        assert np.isfinite(view.depth).all() and (view.depth > 0).all(), pose
        assert (view.object_id >= 0).all()
    source = render_view(scene, Intrinsics.from_fov(320, 240), samples=1)  # fine enough to catch the thin poles
    assert 1.4 <= source.depth.min() <= 2.5
    assert 7.0 <= source.depth.max() <= 8.0 + 1e-5
    assert len(np.unique(source.object_id)) >= 4
    # Textured backgrounds: the back wall (object 0) is not flat-coloured.
    assert source.image[source.object_id == 0].std(axis=0).min() > 10


@pytest.mark.parametrize("name", SCENE_NAMES)
def test_catalog_lateral_move_of_5_percent_of_near_depth_opens_disocclusions(name):
    scene, k = scene_catalog(96, 72)[name]
    near = float(render_view(scene, k, samples=1).depth.min())
    for sign in (-1, 1):
        pose = Pose.translation(sign * 0.05 * near, 0.0, 0.0)
        view = render_view(scene, k, pose, samples=1)
        points = unproject_depth(view.depth, k).reshape(-1, 3).astype(np.float64) + pose.position
        t, _ = cast_rays(scene, (0.0, 0.0, 0.0), points)
        assert (t < 1.0 - 1e-4).mean() > 0.005, (name, sign)


def test_catalog_scene_contents():
    catalog = scene_catalog()
    assert set(catalog) >= {"planes", "boxes", "spheres", "thin", "nested", "fine_texture", "coarse_texture"}
    k = catalog["planes"][1]
    assert (k.width, k.height, k.fx, k.fy) == pytest.approx((640, 480, 640.0, 640.0))
    thin = catalog["thin"][0]
    assert sum(isinstance(o, Cylinder) for o in thin.objects) >= 3
    assert sum(isinstance(o, Box) and o.hi[0] - o.lo[0] < 0.05 for o in thin.objects) >= 10  # slats
    fine, coarse = catalog["fine_texture"][0], catalog["coarse_texture"][0]
    assert [type(o) for o in fine.objects] == [type(o) for o in coarse.objects]
    for a, b in zip(fine.objects, coarse.objects, strict=True):
        assert b.texture.period == pytest.approx(15 * a.texture.period)


def test_nested_occluders_overlap_in_the_image():
    scene, k = scene_catalog(96, 72)["nested"]
    room, occluders = scene.objects[:6], scene.objects[6:]
    assert len(occluders) >= 3
    masks = [render_view(SyntheticScene("one", (*room, o)), k, samples=1).object_id == 6 for o in occluders]
    source = render_view(scene, k, samples=1)
    for i in range(len(occluders) - 1):
        assert (masks[i] & masks[i + 1]).sum() > 20  # each occluder hides part of the next one
    # Listed near to far: where several cover a pixel, the first of them is seen.
    covered = np.any(masks, axis=0)
    first = np.argmax(masks, axis=0)
    np.testing.assert_array_equal(source.object_id[covered], 6 + first[covered])
    assert (masks[0] & masks[1] & masks[2]).sum() > 20  # three deep at some pixels


def test_fine_texture_varies_faster_than_coarse():
    def mean_gradient(name):
        view, _ = render_source(name, 128, 96, samples=1)
        grey = view.image.astype(np.float64).mean(-1)
        return np.abs(np.diff(grey, axis=1)).mean()

    assert mean_gradient("fine_texture") > 3 * mean_gradient("coarse_texture")


def test_render_is_deterministic_and_seeded():
    scene, k = scene_catalog(48, 36)["spheres"]
    a, b = render_view(scene, k, samples=2), render_view(scene, k, samples=2)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.depth, b.depth)
    np.testing.assert_array_equal(a.object_id, b.object_id)
    s = np.linspace(0.0, 3.0, 500)
    t = np.linspace(0.5, 1.7, 500)
    noise = Texture("noise", ((0, 0, 0), (255, 255, 255)), 0.3, seed=4)
    np.testing.assert_array_equal(noise.evaluate(s, t), Texture("noise", noise.colors, 0.3, seed=4).evaluate(s, t))
    assert not np.array_equal(noise.evaluate(s, t), Texture("noise", noise.colors, 0.3, seed=5).evaluate(s, t))


def test_textures():
    s = np.array([0.05, 0.15, 0.05, 0.15, 0.25])
    t = np.array([0.05, 0.05, 0.15, 0.15, 0.05])
    red, blue, green = (255, 0, 0), (0, 0, 255), (0, 255, 0)
    checker = Texture("checker", (red, blue), 0.1).evaluate(s, t)
    np.testing.assert_array_equal(checker, [red, blue, blue, red, red])
    stripes = Texture("stripes", (red, blue, green), 0.1).evaluate(s, t)
    np.testing.assert_array_equal(stripes, [red, blue, red, blue, green])
    np.testing.assert_array_equal(Texture("solid", (green,)).evaluate(s, t), [green] * 5)
    gradient = Texture("gradient", ((0, 0, 0), (200, 100, 50)), 1.0).evaluate(np.array([0.0, 0.25, 0.5]), np.zeros(3))
    np.testing.assert_allclose(gradient, [[0, 0, 0], [100, 50, 25], [200, 100, 50]], atol=1e-3)
    # Noise: within the ramp, spans most of it, and smooth (tiny steps between close samples).
    x = np.linspace(0.0, 20.0, 20001)
    noise = Texture("noise", ((0, 0, 0), (255, 255, 255)), 1.0, seed=3).evaluate(x, 0.37 * x)[:, 0]
    assert noise.min() >= 0 and noise.max() <= 255
    assert noise.max() - noise.min() > 150
    assert np.abs(np.diff(noise)).max() < 5.0


def test_shading_darkens_faces_turned_from_the_light():
    k = Intrinsics.from_fov(64, 48)
    grey = Texture("solid", ((200, 200, 200),))
    scene = SyntheticScene("t", (Box((-0.6, -0.4, 2.0), (0.6, 0.4, 3.0), grey), wall(6.0, grey)))
    view = render_view(scene, k, Pose.translation(-1.2, 0.0, 0.0), samples=1)
    front = view.image[view.object_id == 0]
    assert 100 < front.min() and front.max() < 200  # shaded, not flat at the texture's colour
    assert len(np.unique(front[:, 0])) == 2  # two faces seen (front and left), two shades
    flat = SyntheticScene("t", (Box((-0.6, -0.4, 2.0), (0.6, 0.4, 3.0), WHITE), wall(6.0)))
    assert (render_view(flat, k, samples=1).image[24, 32] == 255).all()


def test_validation_errors():
    with pytest.raises(Photo3DError, match="texture kind"):
        Texture("marble")
    with pytest.raises(Photo3DError, match="period"):
        Texture("checker", ((0, 0, 0), (1, 1, 1)), period=0.0)
    with pytest.raises(Photo3DError, match="colors"):
        Texture("checker", ((0, 0, 300),))
    with pytest.raises(Photo3DError, match="lo"):
        Box((0, 0, 1), (1, 1, 1))
    with pytest.raises(Photo3DError, match="degenerate"):
        Rect((0, 0, 1), (1, 0, 0), (2, 0, 0))
    with pytest.raises(Photo3DError, match="radius"):
        Sphere((0, 0, 1), -1.0)
    with pytest.raises(Photo3DError, match="samples"):
        render_view(SyntheticScene("t", (wall(2.0),)), Intrinsics.from_fov(8, 6), samples=0)
    with pytest.raises(Photo3DError, match="unknown synthetic scene"):
        render_source("nope")


def test_a_ray_that_hits_nothing_is_reported():
    view = render_view(SyntheticScene("t", (fronto_rect(-0.1, 0.1, -0.1, 0.1, 2.0),)), Intrinsics.from_fov(16, 12))
    assert np.isinf(view.depth).any() and (view.object_id[np.isinf(view.depth)] == -1).all()
    assert (view.object_id[np.isfinite(view.depth)] == 0).all()
