"""The lessons' widgets: the image browser, the learning-rate explorer, what every tool shares."""

from __future__ import annotations

import io
import re
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
from PIL import Image

from fmnist_utils.widgets import ImageBrowser, image_browser

NAMES = ["zero", "one", "two"]


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    """Six 3x4 images; image i is filled with the value 10 * i, labels 0, 1, 0, 2, 1, 0."""
    x = np.stack([np.full((3, 4), 10 * i, dtype=np.uint8) for i in range(6)])
    x[4, 0, 0] = 255  # one distinctive pixel
    y = np.array([0, 1, 0, 2, 1, 0])
    return x, y


def _png_pixels(browser: ImageBrowser) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(browser.image.value)))


def _table_values(browser: ImageBrowser) -> list[int]:
    return [int(v) for v in re.findall(r">(\d+)</td>", browser.pixels.value)]


def test_builds_a_widget_with_named_controls(data) -> None:
    x, y = data
    browser = image_browser(x, y, class_names=NAMES, scale=2)
    assert isinstance(browser, ipywidgets.Widget)
    assert isinstance(browser.class_dropdown, ipywidgets.Dropdown)
    assert browser.class_dropdown.description == "Class"
    assert isinstance(browser.index_slider, ipywidgets.IntSlider)
    assert browser.index_slider.description == "Index"
    assert isinstance(browser.image, ipywidgets.Image) and browser.image.format == "png"
    assert browser.class_dropdown.options == (("0: zero", 0), ("1: one", 1), ("2: two", 2))
    # the controls, the image and the values are all displayed
    shown = []
    stack = [browser]
    while stack:
        widget = stack.pop()
        shown.append(widget)
        stack.extend(getattr(widget, "children", ()))
    for part in (browser.class_dropdown, browser.index_slider, browser.image, browser.pixels):
        assert part in shown


def test_starts_on_the_first_image_of_the_first_class(data) -> None:
    x, y = data
    browser = image_browser(x, y, class_names=NAMES, scale=2)
    assert browser.position == 0
    assert browser.index_slider.max == 2, "class 0 has three images"
    assert "zero" in browser.caption.value and "label 0" in browser.caption.value
    assert _table_values(browser) == [0] * 12
    pixels = _png_pixels(browser)
    assert pixels.shape == (6, 8), "3x4 image enlarged twice"
    assert (pixels == 255).all(), "value 0 is drawn white"


def test_slider_changes_image_caption_and_values(data) -> None:
    x, y = data
    browser = image_browser(x, y, class_names=NAMES, scale=2)
    before = browser.image.value
    browser.index_slider.value = 2  # third image of class 0: x[5]
    assert browser.position == 5
    assert browser.image.value != before
    assert "x[5]" in browser.caption.value and "image 3 of 3" in browser.caption.value
    assert _table_values(browser) == [50] * 12
    assert (_png_pixels(browser) == 255 - 50).all()


def test_dropdown_changes_class_and_slider_range(data) -> None:
    x, y = data
    browser = image_browser(x, y, class_names=NAMES, scale=1)
    browser.index_slider.value = 2
    browser.class_dropdown.value = 1  # class 1 has two images, x[1] and x[4]
    assert browser.index_slider.max == 1
    assert browser.index_slider.value == 1, "the index is clipped to the new class"
    assert browser.position == 4
    assert "one" in browser.caption.value and "label 1" in browser.caption.value
    values = _table_values(browser)
    assert values[0] == 255 and values[1:] == [40] * 11
    pixels = _png_pixels(browser)
    assert pixels[0, 0] == 0 and pixels[0, 1] == 255 - 40
    browser.class_dropdown.value = 2
    assert browser.index_slider.max == 0 and browser.position == 3
    assert _table_values(browser) == [30] * 12


def test_float_images_are_shown_as_bytes() -> None:
    x = np.full((2, 2, 2), 0.5, dtype=np.float32)
    browser = image_browser(x, np.array([0, 1]), class_names=NAMES)
    assert _table_values(browser) == [128] * 4


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"\(n, height, width\)"):
        image_browser(np.zeros((2, 784), dtype=np.uint8), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="must match"):
        image_browser(np.zeros((2, 3, 3), dtype=np.uint8), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="no images"):
        image_browser(np.zeros((0, 3, 3), dtype=np.uint8), np.zeros(0, dtype=int))


def test_defaults_to_fashion_mnist_names() -> None:
    x = np.zeros((2, 28, 28), dtype=np.uint8)
    browser = image_browser(x, np.array([7, 9]))
    assert browser.class_dropdown.options == (("7: Sneaker", 7), ("9: Ankle boot", 9))
    assert "Sneaker" in browser.caption.value


# --- what every widget shares ----------------------------------------------------------


def test_every_tool_is_an_ipywidgets_box_that_displays_itself(data) -> None:
    from fmnist_utils import rate_explorer, widgets

    x, y = data
    tools = [
        image_browser(x, y, class_names=NAMES),
        widgets.kernel_editor(np.zeros((5, 5))),
        widgets.bring_your_own_image(lambda batch: np.full((len(batch), 10), 0.1)),
        rate_explorer.learning_rate_explorer(
            *_separable(), loss=_loss, gradients=_gradients, steps=3
        ),
    ]
    for tool in tools:
        assert isinstance(tool, ipywidgets.Box), f"{type(tool).__name__} is not a widget box"
        assert tool.children, f"{type(tool).__name__} shows nothing"
        assert "application/vnd.jupyter.widget-view+json" in tool._repr_mimebundle_()


def test_one_png_encoder_for_arrays_and_pil_images() -> None:
    from fmnist_utils import widgets

    grey = np.array([[0, 128], [255, 64]], dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(widgets.png_bytes(grey, scale=3))))
    np.testing.assert_array_equal(decoded, np.repeat(np.repeat(grey, 3, axis=0), 3, axis=1))
    floats = np.array([[0.0, 0.5], [1.0, 2.0]])  # floats in [0, 1], clipped
    decoded = np.asarray(Image.open(io.BytesIO(widgets.png_bytes(floats))))
    np.testing.assert_array_equal(decoded, [[0, 128], [255, 255]])
    rgba = Image.new("RGBA", (400, 200), (10, 20, 30, 255))
    shrunk = Image.open(io.BytesIO(widgets.png_bytes(rgba, max_side=100)))
    assert shrunk.size == (100, 50) and shrunk.mode == "RGB"
    source = Path(widgets.__file__).read_text(encoding="utf-8")
    assert source.count('format="PNG"') == 1, "widgets.py encodes PNG in one place only"


# --- Lesson 3: the learning-rate explorer ----------------------------------------------


def _separable(n: int = 300, d: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Flat random points, labelled by a fixed linear rule over three classes."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x, (x @ rng.normal(size=(d, 3))).argmax(axis=1)


def _loss(logits: np.ndarray, labels: np.ndarray) -> float:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(labels)), labels].mean())


def _gradients(w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray):
    z = x @ w + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return x.T @ p / len(y), p.mean(axis=0)


def test_learning_rate_slider_retrains_and_redraws() -> None:
    """On Fashion-MNIST itself: too small, learning and diverging, as the lesson says."""
    from fmnist_utils import rate_explorer
    from fmnist_utils.data import load_fashion_mnist

    (x, y), _ = load_fashion_mnist()
    x = x[:2000].reshape(2000, -1).astype(np.float32) / 255
    tool = rate_explorer.learning_rate_explorer(
        x, y[:2000], loss=_loss, gradients=_gradients, steps=60, start=1e-4
    )
    assert tool.rate_slider.description == "Learning rate"
    assert len(tool.losses) == 60 and abs(tool.losses[0] - np.log(10)) < 1e-5, (
        "every run starts from zero weights: the first loss is log(num_classes)"
    )
    small = Image.open(io.BytesIO(tool.image.value))
    assert small.format == "PNG" and small.width > 200
    assert "too small" in tool.status.value, tool.status.value
    before = tool.image.value

    tool.rate_slider.value = 0.1
    assert tool.image.value != before, "moving the slider redraws the curve"
    assert tool.losses[-1] < 0.5 * tool.losses[0]
    assert "learning" in tool.status.value, tool.status.value

    tool.rate_slider.value = 3.0
    assert "diverging" in tool.status.value, tool.status.value
    assert max(tool.losses) > 2 * tool.losses[0]
    assert tool.run(1e-3)[-1] > tool.run(0.1)[-1], "a larger (sane) rate learns faster"
    assert tool.run(0.5) == tool.run(0.5), "runs see the same mini-batches every time"


def test_learning_rate_explorer_shows_the_learners_error_and_rejects_bad_input() -> None:
    from fmnist_utils import rate_explorer

    x, y = _separable()

    def broken(w, b, xb, yb):
        raise ValueError("shapes do not match")

    tool = rate_explorer.learning_rate_explorer(x, y, loss=_loss, gradients=broken, num_classes=3)
    assert "ValueError: shapes do not match" in tool.status.value
    with pytest.raises(ValueError, match="flat images"):
        rate_explorer.learning_rate_explorer(
            x.reshape(-1, 2, 4), y, loss=_loss, gradients=_gradients
        )
    with pytest.raises(ValueError, match="positive"):
        rate_explorer.learning_rate_explorer(x, y, loss=_loss, gradients=_gradients, steps=0)
