from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from photo3d.depth.upsample import edge_aware_upsample
from tests.support.helpers import raises_one_line

NEAR, FAR = 1.0, 0.2  # disparity of the left (near) and right (far) side
COLOUR_NEAR, COLOUR_FAR = (200, 60, 40), (40, 90, 180)


def crossings(values: np.ndarray, level: float) -> np.ndarray:
    """Per row, the sub-pixel x (pixel edges at integers) where a left-high, right-low profile first drops below level.

    Pixel ``c`` has its centre at ``c + 0.5``; a step whose first low pixel is ``c`` crosses at ``x = c``.
    """
    first_low = np.argmax(values < level, axis=1)
    assert np.all(first_low > 0), "every row must start above the level"
    rows = np.arange(values.shape[0])
    a, b = values[rows, first_low - 1], values[rows, first_low]
    return first_low - 1 + (a - level) / (a - b) + 0.5


def colour_photo(coverage: np.ndarray, seed: int = 0) -> np.ndarray:
    """An RGB photo mixing the near and far colours by ``coverage`` (1 = near), plus mild sensor noise."""
    near, far = np.array(COLOUR_NEAR, np.float64), np.array(COLOUR_FAR, np.float64)
    rgb = coverage[:, :, None] * near + (1.0 - coverage[:, :, None]) * far
    rgb += np.random.default_rng(seed).normal(0.0, 3.0, rgb.shape)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def network_map(coverage: np.ndarray, scale: int, blur: float) -> np.ndarray:
    """What a network returns: the disparity step area-averaged to 1/scale, then blurred by blur network pixels."""
    h, w = coverage.shape[0] // scale, coverage.shape[1] // scale
    low = cv2.resize(coverage.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) * (NEAR - FAR) + FAR
    return cv2.GaussianBlur(low, (0, 0), blur, borderType=cv2.BORDER_REPLICATE) if blur else low


# A vertical colour edge at x = 301 in a 640 x 360 photo; the network's 160 x 90 map has its step one network
# pixel (4 photo pixels) to the left or right of it, and blurred.
EDGE_X, SCALE = 301, 4


@pytest.mark.parametrize("shift", [-SCALE, SCALE])
def test_misplaced_step_snaps_to_the_colour_edge(shift: int) -> None:
    x = np.arange(640) + 0.5
    photo = colour_photo(np.tile((x < EDGE_X).astype(np.float64), (360, 1)))
    network_step = np.tile((x < EDGE_X + shift).astype(np.float64), (360, 1))
    low = network_map(network_step, SCALE, blur=0.5)

    out = edge_aware_upsample(low, photo)
    bilinear = cv2.resize(low, (640, 360), interpolation=cv2.INTER_LINEAR)

    level = 0.5 * (NEAR + FAR)
    ours = np.abs(crossings(out, level) - EDGE_X)
    plain = np.abs(crossings(bilinear, level) - EDGE_X)
    assert ours.max() <= 1.0, f"edge off by up to {ours.max():.2f} px, in row {ours.argmax()}"
    assert plain.min() >= 3.0  # the comparison that fails if the method does nothing
    # The step is sharp: from 3/4 to 1/4 of the way down within a pixel or so (bilinear: about 2 network pixels).
    width = crossings(out, FAR + 0.25 * (NEAR - FAR)) - crossings(out, FAR + 0.75 * (NEAR - FAR))
    assert width.max() <= 1.5
    # Away from the edge each side keeps its own level, up to the network's blur (kept within 20 % of the step).
    assert np.all(out[:, : EDGE_X - 1] >= NEAR - 0.2 * (NEAR - FAR))
    assert np.all(out[:, EDGE_X + 1 :] <= FAR + 0.2 * (NEAR - FAR))


def test_diagonal_edge_snaps_to_the_colour_edge() -> None:
    h, w, ss = 360, 640, 4
    # Colour boundary x = 200 + 0.4 y, anti-aliased by 4 x 4 supersampling.
    ys, xs = np.mgrid[0 : h * ss, 0 : w * ss]
    inside = ((xs + 0.5) / ss < 200.0 + 0.4 * (ys + 0.5) / ss).astype(np.float64)
    coverage = inside.reshape(h, ss, w, ss).mean(axis=(1, 3))
    # The network's edge: the same line five photo pixels to the right, blurred.
    network_inside = ((xs + 0.5) / ss < 205.0 + 0.4 * (ys + 0.5) / ss).astype(np.float64)
    low = network_map(network_inside.reshape(h, ss, w, ss).mean(axis=(1, 3)), SCALE, blur=0.5)

    out = edge_aware_upsample(low, colour_photo(coverage))
    bilinear = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)

    truth = 200.0 + 0.4 * (np.arange(h) + 0.5)
    level = 0.5 * (NEAR + FAR)
    ours = np.abs(crossings(out, level) - truth)
    plain = np.abs(crossings(bilinear, level) - truth)
    assert ours.max() <= 1.0, f"edge off by up to {ours.max():.2f} px, in row {ours.argmax()}"
    assert plain.mean() >= 3.0


@pytest.mark.parametrize("slope", [0.5, 10.0])  # percent of the range per network pixel; 10 % is inside the band
@pytest.mark.parametrize("guide_kind", ["texture", "gradient"])
def test_smooth_ramp_matches_bilinear(slope: float, guide_kind: str) -> None:
    h, w = 90, 160
    x = np.arange(w, dtype=np.float32)
    low = np.tile(0.3 + (slope / 100.0) * np.abs(x - w / 2), (h, 1)).astype(np.float32)  # a V: two ramps
    low += np.linspace(0.0, 0.1, h, dtype=np.float32)[:, None]
    if guide_kind == "texture":
        guide = np.random.default_rng(1).integers(0, 256, (4 * h, 4 * w, 3), dtype=np.uint8)
    else:  # colour that changes with depth, the case that must not turn a ramp into steps
        t = cv2.resize((low - low.min()) / np.ptp(low), (4 * w, 4 * h))
        guide = np.stack([255 * t, 255 * (1 - t), np.full_like(t, 90)], axis=-1).astype(np.uint8)
    out = edge_aware_upsample(low, guide)
    bilinear = cv2.resize(low, (4 * w, 4 * h), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(out, bilinear, rtol=0, atol=1e-3)


def test_pixels_away_from_edges_are_bilinear() -> None:
    x = np.arange(640) + 0.5
    photo = colour_photo(np.tile((x < EDGE_X).astype(np.float64), (360, 1)))
    low = network_map(np.tile((x < EDGE_X + SCALE).astype(np.float64), (360, 1)), SCALE, blur=0.5)
    low += np.linspace(0.0, 0.05, 90, dtype=np.float32)[:, None]  # both sides slope gently
    out = edge_aware_upsample(low, photo)
    bilinear = cv2.resize(low, (640, 360), interpolation=cv2.INTER_LINEAR)
    far_from_edge = np.abs(x - EDGE_X) > 4 * SCALE * 3  # beyond the edge band (radius 2) plus a network pixel
    np.testing.assert_array_equal(out[:, far_from_edge], bilinear[:, far_from_edge])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    h=st.integers(2, 24),
    scale=st.sampled_from([1.5, 2.0, 3.0, 4.0]),
    blocky=st.booleans(),
)
def test_output_stays_within_the_input_range(seed: int, h: int, scale: float, blocky: bool) -> None:
    rng = np.random.default_rng(seed)
    w = h + int(rng.integers(0, 2 * h))
    low = rng.uniform(-3.0, 5.0, (h, w)).astype(np.float32)
    if blocky:  # steps between a few levels, plus noise
        low = np.round(low) + rng.normal(0.0, 0.05, (h, w)).astype(np.float32)
    big_h, big_w = round(h * scale), round(w * scale)
    guide = rng.integers(0, 256, (big_h, big_w, 3), dtype=np.uint8)
    guide[:, : big_w // 2] //= 4  # a colour edge too
    assume(abs((w / h) - (big_w / big_h)) / (big_w / big_h) <= 0.01)
    out = edge_aware_upsample(low, guide)
    assert out.shape == (big_h, big_w) and out.dtype == np.float32
    assert out.min() >= low.min() and out.max() <= low.max()


def test_shapes_dtypes_and_plain_resizing() -> None:
    low = np.arange(12, dtype=np.float64).reshape(3, 4)
    out = edge_aware_upsample(low, np.zeros((6, 8, 3), np.uint8))
    assert out.shape == (6, 8) and out.dtype == np.float32

    # No guide: bilinear to a given shape, identity without one; never the input array itself.
    low32 = low.astype(np.float32)
    np.testing.assert_array_equal(
        edge_aware_upsample(low32, None, shape=(9, 12)), cv2.resize(low32, (12, 9), interpolation=cv2.INTER_LINEAR)
    )
    same = edge_aware_upsample(low32, None)
    np.testing.assert_array_equal(same, low32)
    assert same is not low32 and not np.shares_memory(same, low32)
    # A guide of the map's own size: a copy. A smaller one: area averaging.
    same = edge_aware_upsample(low32, np.zeros((3, 4, 3), np.uint8))
    np.testing.assert_array_equal(same, low32)
    assert not np.shares_memory(same, low32)
    big = np.arange(16 * 16, dtype=np.float32).reshape(16, 16)
    np.testing.assert_array_equal(
        edge_aware_upsample(big, np.zeros((8, 8, 3), np.uint8)), cv2.resize(big, (8, 8), interpolation=cv2.INTER_AREA)
    )
    # Integer maps and a constant map work; a constant map stays constant.
    np.testing.assert_array_equal(edge_aware_upsample(np.full((3, 4), 7, np.int32), np.zeros((6, 8, 3), np.uint8)), 7)


def test_guide_views_and_strips_do_not_change_the_result() -> None:
    x = np.arange(640) + 0.5
    photo = colour_photo(np.tile((x < EDGE_X).astype(np.float64), (360, 1)))
    low = network_map(np.tile((x < EDGE_X - SCALE).astype(np.float64), (360, 1)), SCALE, blur=0.5)
    reference = edge_aware_upsample(low, photo)
    np.testing.assert_array_equal(edge_aware_upsample(low, photo, strip_rows=7), reference)
    np.testing.assert_array_equal(edge_aware_upsample(low, photo, strip_rows=10_000), reference)
    bgr = np.ascontiguousarray(photo[:, :, ::-1])
    np.testing.assert_array_equal(edge_aware_upsample(low, bgr[:, :, ::-1]), reference)  # a negative-stride view


def test_aspect_ratio_must_match_within_one_percent() -> None:
    low = np.zeros((100, 178), np.float32)
    edge_aware_upsample(low, np.zeros((1080, 1920, 3), np.uint8))  # 1.78 vs 1.7778: 0.1 % off
    edge_aware_upsample(low, None, shape=(1080, 1920))
    raises_one_line(
        edge_aware_upsample, low, np.zeros((1080, 1960, 3), np.uint8), words=("178x100", "1960x1080", "aspect")
    )
    raises_one_line(edge_aware_upsample, low, None, shape=(1000, 1920), words=("aspect",))


@pytest.mark.parametrize(
    "low,guide,kwargs,words",
    [
        (np.zeros((0, 4)), None, {}, ("non-empty", "(0, 4)")),
        (np.zeros((2, 3, 4)), None, {}, ("(h, w)",)),
        (np.array([[1.0, np.nan]]), None, {}, ("NaN", "fill_invalid")),
        (np.array([["a", "b"]]), None, {}, ("real numbers",)),
        (np.zeros((2, 2)), np.zeros((4, 4, 3), np.float32), {}, ("uint8", "float32")),
        (np.zeros((2, 2)), np.zeros((4, 4), np.uint8), {}, ("(H, W, 3)",)),
        (np.zeros((2, 2)), np.zeros((4, 4, 3), np.uint8), {"shape": (8, 8)}, ("disagrees", "(4, 4)")),
        (np.zeros((2, 2)), None, {"shape": (0, 4)}, ("positive",)),
        (np.zeros((2, 2)), np.zeros((4, 4, 3), np.uint8), {"radius": 0}, ("radius",)),
        (np.zeros((2, 2)), np.zeros((4, 4, 3), np.uint8), {"edge_threshold": 0.0}, ("edge_threshold",)),
        (np.zeros((2, 2)), np.zeros((4, 4, 3), np.uint8), {"color_threshold": -1.0}, ("color_threshold",)),
        (np.zeros((2, 2)), np.zeros((4, 4, 3), np.uint8), {"strip_rows": 0}, ("strip_rows",)),
    ],
)
def test_errors_are_one_line(low, guide, kwargs, words) -> None:
    raises_one_line(edge_aware_upsample, low, guide, words=words, **kwargs)


def reference_upsample(low: np.ndarray, guide: np.ndarray, radius: int = 2) -> np.ndarray:
    """The method of photo3d.depth.upsample written out pixel by pixel (slow; for tiny images)."""
    edge_threshold, color_threshold, purity, texture_weight, gain = 0.03, 8.0, 0.2, 0.25, 4.0
    h, w = low.shape
    big_h, big_w = guide.shape[:2]
    low = low.astype(np.float64)
    up = cv2.resize(low.astype(np.float32), (big_w, big_h), interpolation=cv2.INTER_LINEAR).astype(np.float64)
    colour = cv2.resize(guide, (w, h), interpolation=cv2.INTER_AREA).astype(np.float64)
    full_range = low.max() - low.min()

    def window(a: np.ndarray, i: int, j: int) -> np.ndarray:
        return a[max(0, i - radius) : i + radius + 1, max(0, j - radius) : j + radius + 1]

    top = np.array([[window(low, i, j).max() for j in range(w)] for i in range(h)])
    bottom = np.array([[window(low, i, j).min() for j in range(w)] for i in range(h)])
    band = top - bottom > edge_threshold * full_range
    side_hi = band & (low >= top - purity * (top - bottom))
    side_lo = band & (low <= bottom + purity * (top - bottom))

    out = up.copy()
    for y in range(big_h):
        for x in range(big_w):
            i, j = min(int((y + 0.5) * h / big_h), h - 1), min(int((x + 0.5) * w / big_w), w - 1)
            hi, lo = window(side_hi, i, j), window(side_lo, i, j)
            if not band[i, j] or not hi.any() or not lo.any():
                continue
            cols, vals = window(colour, i, j), window(low, i, j)
            c_hi, c_lo = cols[hi].mean(axis=0), cols[lo].mean(axis=0)
            noise2 = color_threshold**2 + texture_weight * (cols[hi].var(axis=0).sum() + cols[lo].var(axis=0).sum())
            sep = np.linalg.norm(c_hi - c_lo)
            confidence = np.clip(sep / np.sqrt(noise2) - 1.0, 0.0, 1.0)
            if confidence == 0.0:
                continue
            t = np.dot(guide[y, x] - c_lo, c_hi - c_lo) / sep**2
            alpha = np.clip(gain * (t - 0.5) + 0.5, 0.0, 1.0)
            # The four network pixels bilinear interpolation blends at this photo pixel.
            fy = min(max(int(np.floor((y + 0.5) * h / big_h - 0.5)), 0), h - 1)
            fx = min(max(int(np.floor((x + 0.5) * w / big_w - 0.5)), 0), w - 1)
            footprint = low[fy : fy + 2, fx : fx + 2]
            mid, spread = 0.5 * (top[i, j] + bottom[i, j]), top[i, j] - bottom[i, j]
            u = up[y, x]
            pure_hi = footprint.min() > mid and u >= top[i, j] - purity * spread
            pure_lo = footprint.max() <= mid and u <= bottom[i, j] + purity * spread
            v_hi = u if pure_hi else vals[hi].mean()
            v_lo = u if pure_lo else vals[lo].mean()
            out[y, x] = u + confidence * (alpha * v_hi + (1 - alpha) * v_lo - u)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_the_pixel_by_pixel_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w, scale = 12, 16, 3
    # Blocks of three depth levels with noise, and a photo whose colours follow the blocks a little off.
    levels = rng.choice([0.2, 0.5, 1.0], size=(3, 4))
    low = cv2.resize(levels, (w, h), interpolation=cv2.INTER_NEAREST) + rng.normal(0, 0.01, (h, w))
    low = cv2.GaussianBlur(low, (0, 0), 0.6).astype(np.float32)
    labels = cv2.resize(levels, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST)
    labels = np.roll(labels, int(rng.integers(-2, 3)), axis=1)
    palette = {0.2: (30, 60, 200), 0.5: (60, 200, 60), 1.0: (220, 40, 40)}
    guide = np.zeros((h * scale, w * scale, 3), np.float64)
    for level, rgb in palette.items():
        guide[labels == level] = rgb
    guide = np.clip(guide + rng.normal(0, 4, guide.shape), 0, 255).astype(np.uint8)

    out = edge_aware_upsample(low, guide)
    expected = reference_upsample(low, guide)
    changed = np.abs(expected - cv2.resize(low, (w * scale, h * scale))) > 1e-6
    assert changed.mean() > 0.05  # the case exercises the snapping, not just bilinear
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-4)


@pytest.mark.slow
def test_speed_at_1080p() -> None:
    rng = np.random.default_rng(0)
    # Many edges: a 518 x 924 map of random blocks and a photo with matching colours.
    blocks = rng.uniform(0.1, 1.0, (37, 66)).astype(np.float32)
    low = cv2.resize(blocks, (924, 518), interpolation=cv2.INTER_NEAREST)
    photo = cv2.resize((blocks[:, :, None] * rng.uniform(50, 255, 3)).astype(np.uint8), (1920, 1080), cv2.INTER_NEAREST)
    edge_aware_upsample(low, photo)
    start = time.perf_counter()
    edge_aware_upsample(low, photo)
    assert time.perf_counter() - start < 2.0  # about 0.15 s on two cores; generous for busy CI machines


# --- full-size soft maps: depth_edge_scale and recover_depth_edges ---


def soft_scene(blur: float, seed: int = 0):
    """A 240 x 320 photo with a near disc (colour edge at radius 60) and its disparity, blurred by ``blur`` px."""
    y, x = np.mgrid[0:240, 0:320] + 0.5
    coverage = ((x - 160.0) ** 2 + (y - 120.0) ** 2 < 60.0**2).astype(np.float64)
    photo = colour_photo(coverage, seed)
    disparity = (coverage * (NEAR - FAR) + FAR).astype(np.float32)
    if blur:
        disparity = cv2.GaussianBlur(disparity, (0, 0), blur)
    return photo, disparity, coverage.astype(bool)


def test_sharp_maps_and_planes_have_scale_one() -> None:
    from photo3d.depth.upsample import depth_edge_scale

    _, sharp, _ = soft_scene(0.0)
    y, x = np.mgrid[0:240, 0:320].astype(np.float32)
    plane = 0.5 + 0.004 * x + 0.002 * y
    assert depth_edge_scale(sharp) == 1.0
    assert depth_edge_scale(plane) == 1.0
    assert depth_edge_scale(np.where(x < 160, plane, plane + 0.3)) == 1.0  # a sharp step between slanted planes


@pytest.mark.parametrize("blur", [1.5, 2.5, 4.0])
def test_blurred_and_enlarged_maps_read_as_soft(blur: float) -> None:
    from photo3d.depth.upsample import depth_edge_scale

    _, soft, _ = soft_scene(blur)
    assert depth_edge_scale(soft) >= 2.0
    _, sharp, _ = soft_scene(0.0)
    small = cv2.resize(sharp, (80, 60), interpolation=cv2.INTER_AREA)
    assert depth_edge_scale(cv2.resize(small, (320, 240), interpolation=cv2.INTER_LINEAR)) >= 2.0


@pytest.mark.parametrize("blur", [1.5, 2.5, 3.5])  # ramps (10-90 %) 4 to 9 px wide
def test_soft_full_size_edges_land_on_the_colour_edge(blur: float) -> None:
    from photo3d.depth.upsample import recover_depth_edges

    photo, soft, inside = soft_scene(blur)
    out = recover_depth_edges(soft, photo)
    level = 0.5 * (NEAR + FAR)
    wrong_before = np.count_nonzero((soft > level) != inside)
    wrong_after = np.count_nonzero((out > level) != inside)
    # The disc's outline is about 377 px long; the blurred map puts its level crossing a pixel off in places and
    # its ramp holds hundreds of intermediate values. After recovery the step sits on the colour edge.
    ramp = (soft > FAR + 0.1 * (NEAR - FAR)) & (soft < NEAR - 0.1 * (NEAR - FAR))
    ramp_after = (out > FAR + 0.1 * (NEAR - FAR)) & (out < NEAR - 0.1 * (NEAR - FAR))
    assert wrong_after <= min(wrong_before, 40)
    assert np.count_nonzero(ramp_after) < 0.35 * np.count_nonzero(ramp)
    assert out.min() >= soft.min() - 1e-6 and out.max() <= soft.max() + 1e-6
    # Away from the edge nothing changes.
    far_from_edge = cv2.distanceTransform((~ramp).astype(np.uint8), cv2.DIST_L2, 5) > 20
    np.testing.assert_array_equal(out[far_from_edge], soft[far_from_edge])


def test_sharp_maps_come_back_unchanged() -> None:
    from photo3d.depth.upsample import recover_depth_edges

    photo, sharp, _ = soft_scene(0.0)
    out = recover_depth_edges(sharp, photo)
    np.testing.assert_array_equal(out, sharp)
    assert out is not sharp


def test_recover_refuses_a_photo_of_another_size() -> None:
    from photo3d.depth.upsample import recover_depth_edges
    from photo3d.errors import Photo3DError

    photo, soft, _ = soft_scene(2.0)
    with pytest.raises(Photo3DError, match="320x240 but the photo is 160x120"):
        recover_depth_edges(soft, photo[::2, ::2])


def test_collapse_ramps_makes_one_step_and_leaves_planes_and_wires() -> None:
    from photo3d.depth.upsample import collapse_ramps

    h, w = 40, 120
    xs = np.arange(w, dtype=np.float32)
    grey = np.full((h, w, 3), 200, np.uint8)  # colour cannot place anything
    # A step from 0.4 to 1.0 at x = 60 blurred along the rows (sigma 3 px): one step at the midpoint.
    ramp = np.repeat(cv2.GaussianBlur(np.where(xs < 60, 0.4, 1.0).astype(np.float32)[None], (0, 0), 3.0), h, 0)
    out = collapse_ramps(ramp, grey, 0.1, 20, 0.005)
    row = out[h // 2]
    assert np.count_nonzero(np.abs(np.diff(row)) > 0.05) == 1
    assert np.argmax(np.abs(np.diff(row))) == 59  # between x = 59 and 60, where the ramp crosses halfway
    # Each side holds the ramp's end there: no value between the two levels is left.
    assert np.all((row < 0.45) | (row > 0.95))
    # With colour, the step goes where the colours change, even 4 px off the ramp's midpoint.
    photo = grey.copy()
    photo[:, :56] = 60
    assert np.argmax(np.abs(np.diff(collapse_ramps(ramp, photo, 0.1, 20, 0.005)[h // 2]))) == 55
    # Planes, however steep, and one-pixel wires have no ramp.
    plane = np.repeat((0.2 + 0.02 * xs)[None], h, 0).astype(np.float32)
    np.testing.assert_array_equal(collapse_ramps(plane, grey, 0.1, 20, 0.005), plane)
    wire = np.full((h, w), 0.4, np.float32)
    wire[:, 60] = 1.0
    np.testing.assert_array_equal(collapse_ramps(wire, grey, 0.1, 20, 0.005), wire)
    raises_one_line(collapse_ramps, ramp, grey[:, :-1], 0.1, 20, 0.005, words=("a photo and sides of its size",))
    raises_one_line(collapse_ramps, ramp, grey, 0.1, 1, 0.005, words=("max_run",))


def test_upsampling_leaves_no_ramp_where_colour_cannot_tell_the_sides() -> None:
    from photo3d.depth.upsample import upsample_depth

    # A near square on a far wall, both the same grey: a map at a quarter of the size has nothing to snap to.
    photo = np.full((160, 240, 3), 128, np.uint8)
    depth = np.full((40, 60), 4.0, np.float32)
    depth[10:30, 20:40] = 1.0
    out = upsample_depth(depth, photo)
    # Bilinear enlargement leaves a ramp at every side (measured: 1276 pixels between the levels); what is left
    # is 2 x 2 pixels at each corner, where the ramps of a row and a column meet.
    between = (out > 1.05) & (out < 3.8)
    assert np.count_nonzero(between) <= 16
    assert np.isclose(out.min(), 1.0, rtol=1e-4) and np.isclose(out.max(), 4.0, rtol=1e-4)


def test_upsampling_collapses_the_wider_ramps_of_a_map_soft_at_its_own_size() -> None:
    from photo3d.depth.upsample import upsample_disparity

    # A network's map is soft at its own size too: a step blurred by 2 of its pixels spans about 8 of them, 32 photo
    # pixels at 4x, wider than the one map pixel (4 photo pixels) a plain enlargement leaves.
    photo = np.full((240, 320, 3), 128, np.uint8)
    coverage = np.zeros((240, 320), np.float32)
    coverage[60:180, 100:220] = 1.0
    low = network_map(coverage, 4, blur=2.0)
    out = upsample_disparity(low, photo)
    # Measured: 11,660 pixels between the levels when ramps were followed one map pixel wide, 820 now (the
    # rounded corners of the blurred square).
    between = (out > FAR + 0.05) & (out < NEAR - 0.05)
    assert np.count_nonzero(between) <= 1200
    assert out.min() >= low.min() - 1e-6 and out.max() <= low.max() + 1e-6


# --- maps registered off the photo: depth_edge_offset and align_depth_edges ---


def textured_scene(seed: int = 0):
    """A 240 x 320 photo: a near disc and a near bar over a textured far wall, and its registered disparity."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:240, 0:320] + 0.5
    coverage = ((x - 110.0) ** 2 + (y - 120.0) ** 2 < 50.0**2) | ((x > 220) & (x < 250) & (y > 30) & (y < 210))
    photo = colour_photo(coverage.astype(np.float64), seed).astype(np.int16)
    # The wall's texture: blotches of up to +-25 levels, edges as strong as a third of the silhouettes'.
    blotches = cv2.resize(rng.normal(0.0, 25.0, (24, 32, 3)), (320, 240), interpolation=cv2.INTER_NEAREST)
    photo = np.clip(photo + np.where(coverage[..., None], 0, blotches), 0, 255).astype(np.uint8)
    return photo, (coverage * (NEAR - FAR) + FAR).astype(np.float32)


@pytest.mark.parametrize("dy, dx", [(2, 3), (-3, 1), (0, -2), (3, 0)])  # max_shift is 3 at 320 px
def test_a_translated_map_is_found_and_put_back(dy: int, dx: int) -> None:
    from photo3d.depth.upsample import align_depth_edges, depth_edge_offset, place_depth_edges

    photo, registered = textured_scene()
    # The map shows at (y + dy, x + dx) what the photo shows at (y, x).
    off = np.roll(registered, (dy, dx), axis=(0, 1))
    assert depth_edge_offset(off, photo) == (dy, dx)
    back = align_depth_edges(off, dy, dx)
    inner = np.s_[5:-5, 5:-5]  # np.roll wraps the border around; align_depth_edges repeats it
    np.testing.assert_array_equal(back[inner], registered[inner])
    np.testing.assert_array_equal(place_depth_edges(off, photo)[inner], registered[inner])
    np.testing.assert_array_equal(place_depth_edges(off, photo, align=False), off)  # sharp, so nothing else moves


def test_a_soft_map_is_placed_but_not_translated() -> None:
    from photo3d.depth.upsample import depth_edge_offset, place_depth_edges

    photo, registered = textured_scene()
    soft = cv2.GaussianBlur(np.roll(registered, (2, 3), axis=(0, 1)), (0, 0), 2.5)
    assert depth_edge_offset(soft, photo) == (2, 3)  # found, but the edge placement decides a soft map's edges
    np.testing.assert_array_equal(place_depth_edges(soft, photo), place_depth_edges(soft, photo, align=False))


@pytest.mark.parametrize("blur", [0.0, 2.5])
def test_a_registered_map_is_not_moved(blur: float) -> None:
    from photo3d.depth.upsample import depth_edge_offset

    photo, registered = textured_scene(seed=1)
    if blur:
        registered = cv2.GaussianBlur(registered, (0, 0), blur)
    assert depth_edge_offset(registered, photo) == (0, 0)
    x = np.arange(320, dtype=np.float32)[None, :].repeat(240, 0)
    assert depth_edge_offset(0.5 + 0.002 * x, photo) == (0, 0)  # no depth edge at all


@pytest.mark.parametrize("grow", [cv2.dilate, cv2.erode])
def test_near_objects_too_wide_or_too_narrow_are_no_translation(grow) -> None:
    from photo3d.depth.upsample import depth_edge_offset

    photo, registered = textured_scene()
    # Near objects 3 px too wide (or narrow) all around: left and right edges would need opposite moves.
    wrong = grow(registered, np.ones((7, 7), np.uint8))
    assert depth_edge_offset(wrong, photo, min_fit=0.0) != (0, 0)  # one side alone would pick a translation
    assert depth_edge_offset(wrong, photo) == (0, 0)


def test_align_depth_edges_repeats_the_border() -> None:
    from photo3d.depth.upsample import align_depth_edges

    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(align_depth_edges(values, 1, -2), [[4, 4, 4, 5], [8, 8, 8, 9], [8, 8, 8, 9]])
    np.testing.assert_array_equal(align_depth_edges(values, 0, 0), values)


def test_offset_refuses_a_photo_of_another_size() -> None:
    from photo3d.depth.upsample import depth_edge_offset
    from photo3d.errors import Photo3DError

    photo, registered = textured_scene()
    with pytest.raises(Photo3DError, match="photo is 160x120 but the depth map is 320x240"):
        depth_edge_offset(registered, photo[::2, ::2])
