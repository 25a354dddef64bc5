"""Diagrams of a layer's computation and of backpropagation: right panels, numbers, steps."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from fmnist_utils import filters, plots

from .plot_checks import (
    bright_square,
    no_figures_left_open,  # noqa: F401 (autouse fixture)
    texts,
)


def test_convolution_step() -> None:
    image = bright_square()
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


def test_backprop_diagram_shows_every_chain_rule_step_and_the_shapes() -> None:
    fig = plots.backprop_diagram({"X": (32, 784), "H": (32, 16), "W2": (16, 10)})
    written = " ".join(texts(fig))
    for step in ("G_Z = (P - Y)/n", "G_H = G_Z W_2^\\top", "G_A = G_H \\odot [A > 0]",
                 "H^\\top G_Z", "X^\\top G_A"):  # fmt: skip
        assert step in written, f"the diagram lacks the step {step!r}"
    assert "(32, 784)" in written and "(32, 16)" in written and "(16, 10)" in written
    assert "(32, 784)" not in " ".join(texts(plots.backprop_diagram())), "shapes only if given"
