"""Images and grids of images: right pixels, right titles, bad input named."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from fmnist_utils import plots

from .plot_checks import (
    NAMES,
    no_figures_left_open,  # noqa: F401 (autouse fixture)
    texts,
)


def test_shared_helpers_do_not_stay_open_in_pyplot() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    y = np.repeat(np.arange(3), 10)
    for fig in (
        plots.image_grid(x[:4], y[:4], class_names=NAMES),
        plots.examples_per_class(x, y, per_class=2, class_names=NAMES),
    ):
        assert isinstance(fig, Figure)


def test_pixel_values_writes_every_value_in_its_cell() -> None:
    image = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    fig = plots.pixel_values(image, title="demo")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), image)
    texts = ax.texts
    assert len(texts) == 12
    by_position = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in texts}
    assert by_position[(2, 3)].get_text() == "220"
    assert by_position[(0, 1)].get_text() == "20"
    # dark cells get white text, light cells black text
    assert by_position[(2, 3)].get_color() == "white"
    assert by_position[(0, 0)].get_color() == "black"
    assert ax.get_title() == "demo"


def test_pixel_values_without_numbers_and_for_floats() -> None:
    fig = plots.pixel_values(np.zeros((28, 28), dtype=np.uint8), annotate=False)
    assert len(fig.axes[0].texts) == 0
    fig = plots.pixel_values(np.array([[0.0, 0.5], [1.0, 0.25]]))
    assert sorted(texts(fig)) == ["0.0", "0.2", "0.5", "1.0"]


def test_pixel_values_rejects_a_stack_of_images() -> None:
    with pytest.raises(ValueError, match=r"\(height, width\)"):
        plots.pixel_values(np.zeros((2, 28, 28), dtype=np.uint8))


def test_class_images_share_one_scale() -> None:
    images = np.stack([np.full((4, 4), v, dtype=float) for v in (0.0, 0.5, 2.0)])
    fig = plots.class_images(images, class_names=NAMES, title="means")
    shown = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(shown) == 3
    assert {im.get_clim() for im in shown} == {(0.0, 2.0)}
    assert [ax.get_title() for ax in fig.axes if ax.images] == NAMES
    assert fig._suptitle.get_text() == "means"
    assert len(fig.axes) == 4, "three images and one colour bar"


def test_class_images_accepts_flat_rows_and_centres() -> None:
    flat = np.array([[-1.0, 0, 0, 3], [0, 1, 0, 0]])
    fig = plots.class_images(flat, class_names=NAMES, center=True, colorbar=False)
    shown = [ax.images[0] for ax in fig.axes if ax.images]
    assert shown[0].get_array().shape == (2, 2)
    assert shown[0].get_clim() == (-3.0, 3.0)
    assert len(fig.axes) == 2


def test_class_images_rejects_non_square_flat_images() -> None:
    with pytest.raises(ValueError, match="square"):
        plots.class_images(np.zeros((3, 5)))


def test_augmentation_gallery_one_row_per_transformation_coloured_by_sense() -> None:
    rng = np.random.default_rng(0)
    examples = {"flip": rng.random((3, 28, 28, 1)), "upside down": rng.random((2, 28, 28))}
    fig = plots.augmentation_gallery(examples, sensible={"flip": True, "upside down": False})
    assert len(fig.axes) == 2 * 3, "one row per transformation, as wide as the longest"
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), examples["flip"][1, ..., 0])
    assert not fig.axes[5].images, "a shorter row leaves its last panel empty"
    assert fig.axes[0].get_ylabel() == "flip\nmakes sense"
    assert fig.axes[3].get_ylabel() == "upside down\ndoes not"
    red = matplotlib.colors.to_hex("tab:red")
    assert matplotlib.colors.to_hex(fig.axes[3].yaxis.label.get_color()) == red


def test_examples_per_class_one_row_of_examples_of_each_class() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(1, 256, size=(30, 28, 28), dtype=np.uint8)
    y = np.repeat(np.arange(3), 10)
    fig = plots.examples_per_class(x, y, per_class=4, class_names=NAMES)
    assert len(fig.axes) == 3
    for ax, label in zip(fig.axes, range(3), strict=True):
        assert ax.get_ylabel() == NAMES[label]
        row = ax.images[0].get_array()
        assert row.shape == (28, 4 * 28 + 3 * 2)
        tiles = [row[:, i * 30 : i * 30 + 28] for i in range(4)]
        own = {x[i].tobytes() for i in np.flatnonzero(y == label)}
        assert all(np.asarray(tile).tobytes() in own for tile in tiles)
        assert len({np.asarray(tile).tobytes() for tile in tiles}) == 4  # no repeats
        assert not np.asarray(row[:, 28:30]).any()  # a blank gap between examples
