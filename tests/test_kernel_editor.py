"""The kernel editor of lesson 5: editing a box or choosing a preset redraws the image."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fmnist_utils import filters, widgets


@pytest.fixture
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.random((8, 10)).astype(np.float32)


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_editor_structure(image: np.ndarray) -> None:
    import ipywidgets

    editor = widgets.kernel_editor(image)
    assert len(editor.cells) == 9 and all(isinstance(c, ipywidgets.FloatText) for c in editor.cells)
    assert isinstance(editor.preset, ipywidgets.Dropdown)
    assert list(editor.preset.options) == list(filters.KERNELS)
    assert isinstance(editor.output, ipywidgets.Image) and editor.output.format == "png"
    assert isinstance(editor, ipywidgets.Box), "the editor is itself a widget box"
    assert "application/vnd.jupyter.widget-view+json" in editor._repr_mimebundle_()
    # starts on the vertical-edge preset, already drawn, scaled up
    assert editor.preset.value == "vertical edge"
    np.testing.assert_array_equal(editor.kernel, filters.VERTICAL_EDGE)
    assert _pixels(editor.output.value).shape == (
        8 * widgets.EDITOR_SCALE,
        10 * widgets.EDITOR_SCALE,
        3,
    )
    np.testing.assert_allclose(editor.filtered, filters.filter_image(image, filters.VERTICAL_EDGE))


def test_changing_one_box_changes_the_image(image: np.ndarray) -> None:
    editor = widgets.kernel_editor(image)
    before = editor.output.value
    editor.cells[4].value = 3.0  # the centre weight
    assert editor.kernel[1, 1] == 3.0
    assert editor.output.value != before
    expected = filters.filter_image(image, editor.kernel)
    np.testing.assert_allclose(editor.filtered, expected, rtol=1e-5)
    assert editor.preset.value is None, "a kernel of your own is no preset"
    assert "sum of weights 3" in editor.status.value


def test_presets_fill_the_boxes(image: np.ndarray) -> None:
    editor = widgets.kernel_editor(image)
    for name, kernel in filters.KERNELS.items():
        editor.preset.value = name
        np.testing.assert_allclose(editor.kernel, kernel, atol=1e-4)
        np.testing.assert_allclose(editor.filtered, filters.filter_image(image, kernel), atol=1e-4)
    editor.preset.value = "identity"
    np.testing.assert_allclose(editor.filtered, image, atol=1e-6)
    # after an edit, the same preset can be chosen again
    editor.cells[0].value = 1.0
    assert editor.preset.value is None
    editor.preset.value = "identity"
    assert editor.kernel[0, 0] == 0.0


def test_set_kernel_redraws_once(image: np.ndarray) -> None:
    calls = []

    def conv(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        calls.append(kernel.copy())
        return filters.filter_image(img, kernel)

    editor = widgets.kernel_editor(image, conv=conv, start="blur")
    calls.clear()
    editor.set_kernel(filters.SHARPEN)
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], filters.SHARPEN)


def test_a_learners_failing_conv_shows_its_error(image: np.ndarray) -> None:
    def conv(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        raise NotImplementedError("not yet")

    editor = widgets.kernel_editor(image, conv=conv)
    assert "NotImplementedError" in editor.status.value
    assert editor.output.value == b""


def test_a_valid_conv_gives_a_smaller_image(image: np.ndarray) -> None:
    def valid(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        return filters.filter_image(img, kernel)[1:-1, 1:-1]

    editor = widgets.kernel_editor(image, conv=valid, scale=2)
    assert _pixels(editor.output.value).shape == (12, 16, 3)


def test_editor_rejects_bad_input(image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="2-D"):
        widgets.kernel_editor(image[..., None])
    with pytest.raises(ValueError, match="not a preset"):
        widgets.kernel_editor(image, start="emboss")
    with pytest.raises(ValueError, match="3x3"):
        widgets.kernel_editor(image, presets={"big": np.ones((5, 5))}, start="big")
    editor = widgets.kernel_editor(image)
    with pytest.raises(ValueError, match="3x3"):
        editor.set_kernel(np.ones((2, 2)))


def test_map_to_png_colours() -> None:
    signed = _pixels(widgets.map_to_png(np.array([[-1.0, 0.0, 1.0]]), scale=1))
    assert signed[0, 0, 2] > signed[0, 0, 0]  # negative: blue
    assert signed[0, 2, 0] > signed[0, 2, 2]  # positive: red
    assert signed[0, 1].min() > 240  # zero: white
    plain = _pixels(widgets.map_to_png(np.array([[0.0, 1.0]]), scale=3))
    assert plain.shape == (3, 6, 3)
    assert plain[0, 0].min() > 240 and plain[0, 5].max() < 15  # 0 white, the max dark
    with pytest.raises(ValueError):
        widgets.map_to_png(np.zeros((2, 2, 2)))
