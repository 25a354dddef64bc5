"""The hand-made kernels of lesson 5 and the plain NumPy filter that applies them."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_utils import filters


def _slow_same_filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    kh, kw = kernel.shape
    padded = np.pad(image.astype(np.float64), ((kh // 2, kh // 2), (kw // 2, kw // 2)))
    out = np.empty(image.shape)
    for i, j in np.ndindex(image.shape):
        out[i, j] = (padded[i : i + kh, j : j + kw] * kernel).sum()
    return out


def test_kernels_are_read_only_float32_3x3() -> None:
    assert list(filters.KERNELS) == [
        "identity",
        "vertical edge",
        "horizontal edge",
        "blur",
        "sharpen",
    ]
    for name, kernel in filters.KERNELS.items():
        assert kernel.shape == (3, 3) and kernel.dtype == np.float32, name
        with pytest.raises(ValueError):
            kernel[0, 0] = 5.0


def test_kernel_sums_say_what_they_keep() -> None:
    # edges ignore flat regions; identity, blur and sharpen keep the brightness
    assert filters.VERTICAL_EDGE.sum() == 0 and filters.HORIZONTAL_EDGE.sum() == 0
    for kernel in (filters.IDENTITY, filters.BLUR, filters.SHARPEN):
        assert kernel.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_array_equal(filters.HORIZONTAL_EDGE, filters.VERTICAL_EDGE.T)


def test_filter_image_matches_a_slow_reference() -> None:
    rng = np.random.default_rng(0)
    for shape, kshape in [((7, 9), (3, 3)), ((5, 5), (1, 1)), ((8, 6), (5, 3))]:
        image = rng.normal(size=shape)
        kernel = rng.normal(size=kshape)
        got = filters.filter_image(image, kernel)
        assert got.dtype == np.float32 and got.shape == shape
        np.testing.assert_allclose(got, _slow_same_filter(image, kernel), rtol=1e-4, atol=1e-5)


def test_filter_image_is_a_cross_correlation_not_a_convolution() -> None:
    image = np.zeros((5, 5))
    image[2, 2] = 1.0
    corner = np.zeros((3, 3))
    corner[0, 0] = 1.0
    out = filters.filter_image(image, corner)
    # out[i, j] = image[i - 1, j - 1]: the dot moves down and to the right
    assert out[3, 3] == 1.0 and out.sum() == 1.0


def test_filter_image_edges_on_a_step() -> None:
    step = np.zeros((6, 6), dtype=np.float32)
    step[:, 3:] = 1.0
    vertical = filters.filter_image(step, filters.VERTICAL_EDGE)[1:-1, 1:-1]
    horizontal = filters.filter_image(step, filters.HORIZONTAL_EDGE)[1:-1, 1:-1]
    assert vertical.min() == -4.0 and vertical.max() == 0.0  # ink starts: left minus right < 0
    assert np.all(horizontal == 0.0)


def test_filter_image_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="2-D"):
        filters.filter_image(np.zeros((4, 4, 1)), filters.BLUR)
    with pytest.raises(ValueError, match="odd"):
        filters.filter_image(np.zeros((4, 4)), np.ones((2, 2)))


def test_kernel_stack_layout() -> None:
    stack = filters.kernel_stack()
    assert stack.shape == (3, 3, 4) and stack.dtype == np.float32
    np.testing.assert_array_equal(stack[:, :, 0], filters.VERTICAL_EDGE)
    np.testing.assert_array_equal(stack[:, :, 3], filters.SHARPEN)
    stack[0, 0, 0] = 99.0  # a copy: the constants stay intact
    assert filters.VERTICAL_EDGE[0, 0] == 1.0
    assert filters.kernel_stack(["blur"]).shape == (3, 3, 1)
    with pytest.raises(KeyError, match="emboss"):
        filters.kernel_stack(["emboss"])
    with pytest.raises(ValueError):
        filters.kernel_stack([])
