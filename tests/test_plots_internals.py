"""A network's internals: kernels, filtered images, feature maps, saliency."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from fmnist_utils import filters, plots

from .plot_checks import (
    bright_square,
    no_figures_left_open,  # noqa: F401 (autouse fixture)
)


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_figures_are_closed_in_pyplot() -> None:
    image = bright_square()
    # a figure pyplot still holds would appear twice in a notebook
    before = plt.get_fignums()
    fig = plots.filter_gallery(image, {"blur": filters.filter_image(image, filters.BLUR)})
    assert plt.get_fignums() == before
    assert fig.axes  # still drawable


def test_filter_gallery_colours() -> None:
    image = bright_square()
    outputs = {name: filters.filter_image(image, k) for name, k in filters.KERNELS.items()}
    fig = plots.filter_gallery(image, outputs, kernels=filters.KERNELS)
    assert len(_image_axes(fig)) == 1 + 2 * len(outputs)
    titles = [ax.get_title() for ax in fig.axes]
    assert "original" in titles and "vertical edge" in titles
    by_title = {ax.get_title(): ax.images[0] for ax in fig.axes if ax.get_title()}
    # signed maps are drawn red/blue around a white 0, others like the image
    assert by_title["vertical edge"].get_cmap().name == "RdBu_r"
    lo, hi = by_title["vertical edge"].get_clim()
    assert lo == -hi
    assert by_title["blur"].get_cmap().name == "gray_r"
    without = plots.filter_gallery(image, {"blur": outputs["blur"]})
    assert len(without.axes) == 2


def test_feature_map_row() -> None:
    image = bright_square()
    maps = np.stack([image, -image, 2 * image], axis=-1)
    fig = plots.feature_map_row(maps, ["a", "b", "c"])
    assert len(fig.axes) == 3
    assert fig.axes[1].get_title().startswith("b")
    assert "(12, 12, 3)" in fig._suptitle.get_text()
    assert plots.feature_map_row(maps, title="mine")._suptitle.get_text() == "mine"
    with pytest.raises(ValueError, match="channels"):
        plots.feature_map_row(image)
    with pytest.raises(ValueError, match="titles"):
        plots.feature_map_row(maps, ["a"])


def test_filters_and_feature_maps_one_panel_each() -> None:
    kernels = np.random.default_rng(1).normal(size=(3, 3, 1, 32))
    assert sum(1 for ax in plots.filters(kernels).axes if ax.images) == 32
    with pytest.raises(ValueError, match="one input channel"):
        plots.filters(np.zeros((3, 3, 2, 4)))
    maps = np.random.default_rng(2).random((1, 26, 26, 12))
    assert sum(1 for ax in plots.feature_maps(maps, ncols=4).axes if ax.images) == 12
    with pytest.raises(ValueError, match=r"\(height, width, channels\)"):
        plots.feature_maps(np.zeros((26, 26)))


def test_saliency_three_rows_and_shape_check() -> None:
    images = np.random.default_rng(3).random((3, 28, 28, 1))
    maps = np.abs(np.random.default_rng(4).normal(size=(3, 28, 28)))
    fig = plots.saliency(images, maps, titles=["a", "b", "c"])
    assert len(fig.axes) == 9
    with pytest.raises(ValueError, match="must both have shape"):
        plots.saliency(images, maps[:, :27])
