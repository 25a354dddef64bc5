"""The figures of lessons 3 and 4: right panels, right data, shown once in a notebook."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fmnist_utils import filters, plots  # noqa: E402


@pytest.fixture
def image() -> np.ndarray:
    img = np.zeros((12, 12), dtype=np.float32)
    img[3:9, 4:10] = 1.0
    return img


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_figures_are_closed_in_pyplot(image: np.ndarray) -> None:
    # a figure pyplot still holds would appear twice in a notebook
    before = plt.get_fignums()
    fig = plots.filter_gallery(image, {"blur": filters.filter_image(image, filters.BLUR)})
    assert plt.get_fignums() == before
    assert fig.axes  # still drawable


def test_convolution_step(image: np.ndarray) -> None:
    fig = plots.convolution_step(image, filters.VERTICAL_EDGE, row=2, col=2)
    assert len(fig.axes) == 3
    expected = float((image[2:5, 2:5] * filters.VERTICAL_EDGE).sum())
    assert f"{expected:.3f}" in fig._suptitle.get_text()
    assert len(fig.axes[0].patches) == 1  # the window's outline
    window_texts = [t.get_text() for t in fig.axes[1].texts]
    assert len(window_texts) == 9
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), image[2:5, 2:5])
    with pytest.raises(ValueError, match="does not fit"):
        plots.convolution_step(image, filters.BLUR, row=11, col=0)


def test_filter_gallery_colours(image: np.ndarray) -> None:
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


def test_feature_map_row(image: np.ndarray) -> None:
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


def test_pooling_grid_writes_every_value() -> None:
    x = np.arange(16).reshape(4, 4)
    pooled = x.reshape(2, 2, 2, 2).max(axis=(1, 3))
    fig = plots.pooling_grid(x, {"max": pooled})
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[1].texts] == ["5", "7", "13", "15"]
    assert len(fig.axes[0].texts) == 16
    # the top-left window and the top-left output share a tint
    np.testing.assert_allclose(
        fig.axes[0].images[0].get_array()[0, 0], fig.axes[1].images[0].get_array()[0, 0]
    )
    with pytest.raises(ValueError):
        plots.pooling_grid(np.zeros((2, 2, 2)), {})


def test_receptive_field_diagram_traces_the_window() -> None:
    layers = [("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1), ("pool", 2, 2)]
    fig = plots.receptive_field_diagram(layers, n_input=22)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "each unit sees 10 input pixels" in texts
    assert "each unit sees 3 input pixels" in texts
    # the bottom row: 22 input units, 10 of them orange
    inputs = fig.axes[0].collections[0]
    colours = inputs.get_facecolors()
    assert len(colours) == 22
    orange = matplotlib.colors.to_rgba("tab:orange")
    assert sum(np.allclose(c, orange) for c in colours) == 10
    with pytest.raises(ValueError, match="does not fit"):
        plots.receptive_field_diagram([("big", 9, 1)], n_input=5)


def test_shift_tolerance() -> None:
    fig = plots.shift_tolerance([0, 1, 2], {"pixels": [0, 0.4, 0.6], "pooled": [0, 0.2, 0.3]})
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0, 0.2, 0.3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["pixels", "pooled"]
    with pytest.raises(ValueError, match="3 shifts"):
        plots.shift_tolerance([0, 1, 2], {"bad": [0, 1]})


def test_layer_sizes() -> None:
    fig = plots.layer_sizes(["input", "conv"], [(28, 28, 1), (26, 26, 32)], [0, 320])
    left, right = fig.axes
    assert [p.get_width() for p in left.patches] == [784, 26 * 26 * 32]
    assert [p.get_width() for p in right.patches] == [0, 320]
    assert "conv  (26, 26, 32)" in [t.get_text() for t in left.get_yticklabels()]
    with pytest.raises(ValueError):
        plots.layer_sizes(["a"], [(1,)], [1, 2])
