"""Lesson 10's helpers: photo preprocessing, the shipped samples, the plots and the photo widget."""

from __future__ import annotations

import datetime
import io

import matplotlib
import numpy as np
import pytest
from PIL import Image

from fmnist_utils import photo, plots, widgets
from fmnist_utils.data import CLASS_NAMES

matplotlib.use("Agg")


def _page(height=200, width=150, box=(20, 100, 10, 50), fg=(200, 30, 30), bg=255):
    img = np.full((height, width, 3), bg, dtype=np.uint8)
    top, bottom, left, right = box
    img[top:bottom, left:right] = fg
    return img


def _bright_box(image):
    mask = np.asarray(image) > 0.5
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


# --- to_gray ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        np.full((4, 5), 255, dtype=np.uint8),
        np.ones((4, 5), dtype=np.float32),
        np.full((4, 5, 3), 255, dtype=np.uint8),
        np.full((4, 5, 1), 255, dtype=np.uint8),
        Image.new("RGB", (5, 4), "white"),
        Image.new("L", (5, 4), 255),
    ],
    ids=["uint8-2d", "float-2d", "rgb", "one-channel", "pil-rgb", "pil-l"],
)
def test_to_gray_reads_every_kind_of_white_image_as_one(image) -> None:
    gray = photo.to_gray(image)
    assert gray.dtype == np.float32 and gray.shape == (4, 5)
    np.testing.assert_allclose(gray, 1.0, atol=1e-6)


def test_to_gray_treats_transparent_pixels_as_white() -> None:
    rgba = np.zeros((3, 3, 4), dtype=np.uint8)  # black, fully transparent
    rgba[1, 1] = (0, 0, 0, 255)  # one opaque black pixel
    for image in (rgba, Image.fromarray(rgba, mode="RGBA")):
        gray = photo.to_gray(image)
        assert gray[0, 0] == pytest.approx(1.0, abs=1e-3)
        assert gray[1, 1] == pytest.approx(0.0, abs=1e-3)


def test_to_gray_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        photo.to_gray(np.zeros((2, 3, 4, 5)))


# --- to_fashion_mnist --------------------------------------------------------------


def test_output_is_28x28_float32_in_unit_range_with_background_zero() -> None:
    out = photo.to_fashion_mnist(_page())
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == pytest.approx(1.0)
    assert out[0, 0] == 0.0 and out[-1, -1] == 0.0


def test_crops_keeps_aspect_ratio_and_centres() -> None:
    out = photo.to_fashion_mnist(_page())  # an 80 x 40 rectangle near the top left
    top, bottom, left, right = _bright_box(out)
    assert (bottom - top, right - left) == (28, 14)
    assert (left + right) / 2 == pytest.approx(14, abs=0.5)
    mass = out / out.sum()
    cx = (mass.sum(axis=0) * np.arange(28)).sum()
    cy = (mass.sum(axis=1) * np.arange(28)).sum()
    assert cx == pytest.approx(13.5, abs=0.6) and cy == pytest.approx(13.5, abs=0.6)


def test_light_on_dark_gives_the_same_result_as_dark_on_light() -> None:
    page = _page(fg=(0, 0, 0))
    np.testing.assert_allclose(
        photo.to_fashion_mnist(page), photo.to_fashion_mnist(255 - page), atol=1e-5
    )


@pytest.mark.parametrize("seed", range(10))
def test_random_rectangles(seed: int) -> None:
    rng = np.random.default_rng(seed)
    H, W = (int(v) for v in rng.integers(40, 300, size=2))
    h, w = int(rng.integers(6, H - 2)), int(rng.integers(6, W - 2))
    y0, x0 = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
    out = photo.to_fashion_mnist(_page(H, W, (y0, y0 + h, x0, x0 + w), fg=(10, 10, 10), bg=230))
    top, bottom, left, right = _bright_box(out)
    long_side, short_side = (bottom - top, right - left) if h >= w else (right - left, bottom - top)
    assert long_side == 28
    assert short_side == pytest.approx(28 * min(h, w) / max(h, w), abs=1.0)


def test_blank_image_gives_zeros() -> None:
    out = photo.to_fashion_mnist(np.full((30, 40), 0.7, dtype=np.float32))
    assert out.shape == (28, 28) and out.dtype == np.float32 and not out.any()


def test_noise_below_the_threshold_is_ignored_when_cropping() -> None:
    page = _page(fg=(0, 0, 0)).astype(np.float64)
    page[150:152, 120:122] = 235  # a faint speck far from the garment
    out = photo.to_fashion_mnist(page.astype(np.uint8))
    assert _bright_box(out)[0:2] == (0, 28)  # cropped to the rectangle, not to the speck


def test_bounding_box_and_fit_in_square() -> None:
    mask = np.zeros((10, 12), dtype=bool)
    mask[2:5, 3:9] = True
    assert photo.bounding_box(mask) == (2, 5, 3, 9)
    assert photo.bounding_box(np.zeros((4, 6), dtype=bool)) == (0, 4, 0, 6)
    square = photo.fit_in_square(np.ones((10, 20), dtype=np.float32))
    assert square.shape == (28, 28)
    assert _bright_box(square) == (7, 21, 0, 28)


def test_to_model_input_adds_batch_and_channel_axes() -> None:
    assert photo.to_model_input(np.zeros((28, 28))).shape == (1, 28, 28, 1)
    batch = photo.to_model_input(np.zeros((5, 28, 28)))
    assert batch.shape == (5, 28, 28, 1) and batch.dtype == np.float32


# --- the shipped samples -------------------------------------------------------------


def test_samples_are_shipped_and_readable() -> None:
    paths = photo.sample_paths()
    assert len(paths) >= 3
    for name, path in paths.items():
        image = photo.load_image(path)
        assert image.mode == "RGB" and min(image.size) >= 100, name
        out = photo.to_fashion_mnist(image)
        assert out.shape == (28, 28) and out.max() == pytest.approx(1.0)
        # the garment touches two opposite edges, like in Fashion-MNIST
        top, bottom, left, right = _bright_box(out)
        assert bottom - top >= 26 or right - left >= 26, name


def test_the_samples_command_redraws_the_shipped_photos(tmp_path) -> None:
    from fmnist_utils.tooling.cli import main

    assert main(["samples", "--out", str(tmp_path)]) == 0
    written = sorted(tmp_path.glob("*.png"))
    assert sorted(p.name for p in written) == sorted(p.name for p in photo.sample_paths().values())
    for path in written:
        np.testing.assert_array_equal(
            np.asarray(Image.open(path)), np.asarray(Image.open(photo.SAMPLES_DIR / path.name))
        )


def test_package_data_includes_the_samples(root) -> None:
    text = (root / "pyproject.toml").read_text()
    assert '"samples/*.png"' in text


# --- plots --------------------------------------------------------------------------


def test_lesson8_plots_draw() -> None:
    probs = np.linspace(0, 1, 10)
    probs /= probs.sum()
    fig = plots.top_k_bars(probs, image=np.zeros((28, 28)), k=3, title="t")
    assert len(fig.axes) == 2
    fig = plots.preprocessing_steps({"a": np.zeros((10, 12, 3), np.uint8), "b": np.zeros((28, 28))})
    assert len(fig.axes) == 2
    fig = plots.distribution_shift({"x": np.zeros((28, 28)), "y": np.ones((28, 28))}, {"x": 0.9})
    assert [ax.get_title() for ax in fig.axes] == ["x\n90.0%", "y"]


# --- the widget -------------------------------------------------------------------


class _Model:
    """Probabilities that depend on where the ink is: a stand-in for a trained model."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, batch, verbose=0):
        self.calls += 1
        assert batch.shape[1:] == (28, 28, 1) and batch.dtype == np.float32
        bands = batch.reshape(len(batch), 28, 28)[:, :, :].reshape(len(batch), 28 * 28)
        scores = np.stack([bands[:, i::10].sum(axis=1) for i in range(10)], axis=1)
        scores = np.exp(scores / 10 - (scores / 10).max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)


def _upload_entry(path) -> dict:
    data = path.read_bytes()
    return {
        "name": path.name,
        "type": "image/png",
        "size": len(data),
        "content": memoryview(data),
        "last_modified": datetime.datetime.now(datetime.UTC),
    }


def test_widget_shows_top3_for_a_picked_sample_and_changes_with_the_image() -> None:
    model = _Model()
    tool = widgets.bring_your_own_image(model)
    assert tool.predictions == [] and "Upload" in tool.result.value
    names = list(photo.sample_paths())
    tool.picker.value = names[0]
    first = list(tool.predictions)
    assert len(first) == 3 and all(name in CLASS_NAMES for name, _ in first)
    probs = [p for _, p in first]
    assert probs == sorted(probs, reverse=True)
    assert first[0][0] in tool.result.value
    assert tool.processed.value[:4] == b"\x89PNG" and tool.original.value[:4] == b"\x89PNG"
    assert tool.model_input.shape == (28, 28)
    outputs = {tuple(first)}
    for name in names[1:]:
        tool.picker.value = name
        outputs.add(tuple(tool.predictions))
    assert len(outputs) > 1, "the top 3 should change with the image"
    assert model.calls == len(names)


def test_widget_classifies_an_upload() -> None:
    tool = widgets.bring_your_own_image(_Model())
    path = next(iter(photo.sample_paths().values()))
    tool.upload.value = (_upload_entry(path),)
    assert len(tool.predictions) == 3 and path.name in tool.result.value


def test_widget_uses_the_learners_preprocess_and_reports_errors() -> None:
    seen = []

    def mine(image):
        seen.append(image)
        return np.zeros((28, 28), dtype=np.float32)

    tool = widgets.bring_your_own_image(_Model(), preprocess=mine, k=2)
    tool.classify_file(next(iter(photo.sample_paths().values())))
    assert len(seen) == 1 and isinstance(seen[0], Image.Image) and len(tool.predictions) == 2

    def broken(image):
        raise NotImplementedError()

    tool = widgets.bring_your_own_image(_Model(), preprocess=broken)
    assert tool.classify(np.zeros((30, 30))) == []
    assert "NotImplementedError" in tool.result.value
    tool = widgets.bring_your_own_image(_Model(), preprocess=lambda image: np.zeros((27, 27)))
    assert tool.classify(np.zeros((30, 30))) == [] and "(28, 28)" in tool.result.value


def test_widget_explains_a_file_that_is_not_an_image() -> None:
    tool = widgets.bring_your_own_image(_Model())
    assert tool.classify_bytes(b"not an image", "notes.txt") == []
    assert "notes.txt" in tool.result.value and "PNG or JPEG" in tool.result.value


def test_widget_reads_a_jpeg_with_exif_rotation() -> None:
    image = Image.fromarray(_page(fg=(0, 0, 0)))  # 200 high, 150 wide, garment tall
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: "rotate 90 degrees clockwise to view"
    buffer = io.BytesIO()
    image.transpose(Image.Transpose.ROTATE_90).save(buffer, "JPEG", exif=exif.tobytes())
    tool = widgets.bring_your_own_image(_Model())
    tool.classify_bytes(buffer.getvalue(), "phone.jpg")
    top, bottom, left, right = _bright_box(tool.model_input)
    assert bottom - top == 28 and right - left < 20, "the photo should be turned upright first"
