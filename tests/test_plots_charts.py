"""Bar and line charts: one bar or line per value given, in order, labelled."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from fmnist_utils import plots
from fmnist_utils.data import CLASS_NAMES

from .plot_checks import (
    NAMES,
    no_figures_left_open,  # noqa: F401 (autouse fixture)
    texts,
    tick_labels,
)


def test_class_balance_draws_one_bar_per_class_and_split() -> None:
    counts = np.array([5, 10, 15])
    fig = plots.class_balance(counts, class_names=NAMES)
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [5, 10, 15]
    assert tick_labels(ax) == NAMES
    assert ax.get_legend() is None, "one unnamed split needs no legend"
    assert ax.get_ylabel() == "examples"


def test_class_balance_grouped_and_normalized() -> None:
    fig = plots.class_balance(
        {"train": np.array([30, 60, 10]), "test": np.array([1, 2, 1])},
        class_names=NAMES,
        normalize=True,
    )
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, [0.3, 0.6, 0.1, 0.25, 0.5, 0.25])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    assert ax.get_ylabel() == "share of examples"


def test_class_balance_uses_fashion_mnist_names_by_default() -> None:
    fig = plots.class_balance(np.full(10, 6000))
    assert tick_labels(fig.axes[0]) == list(CLASS_NAMES)


def test_class_balance_rejects_splits_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="one count per class"):
        plots.class_balance({"a": np.ones(3), "b": np.ones(4)})


def test_pixel_histograms_one_panel_per_class_with_share_of_zeros() -> None:
    x = np.zeros((4, 2, 2), dtype=np.uint8)
    x[2:] = 255  # class 1 is all ink, class 0 all background
    y = np.array([0, 0, 1, 1])
    fig = plots.pixel_histograms(x, y, class_names=NAMES, bins=4)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(visible) == 2
    assert "100% of pixels are 0" in visible[0].get_title()
    assert "0% of pixels are 0" in visible[1].get_title()
    assert visible[0].get_title().startswith("zero")
    # the share of pixels per bin: all of class 0 in the first bin, of class 1 in the last
    values0 = visible[0].patches[0].get_data().values
    values1 = visible[1].patches[0].get_data().values
    np.testing.assert_allclose(values0, [1, 0, 0, 0])
    np.testing.assert_allclose(values1, [0, 0, 0, 1])


def test_pixel_histograms_counts_uint8_like_numpy_histogram() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (30, 5, 5), dtype=np.uint8)
    x[:, 0] = 0
    y = np.arange(30) % 2
    fig = plots.pixel_histograms(x, y, class_names=NAMES, bins=7)
    for ax, label in zip(fig.axes[:2], (0, 1), strict=True):
        pixels = x[y == label].ravel()
        expected, _ = np.histogram(pixels, bins=np.linspace(0, 255, 8))
        got = ax.patches[0].get_data().values
        np.testing.assert_allclose(got, expected / pixels.size)
        assert f"{np.mean(pixels == 0):.0%} of pixels are 0" in ax.get_title()


def test_pixel_histograms_rejects_mismatched_labels() -> None:
    with pytest.raises(ValueError, match="labels"):
        plots.pixel_histograms(np.zeros((3, 2, 2), dtype=np.uint8), np.zeros(2, dtype=int))


def test_accuracy_comparison_labels_bars_in_order() -> None:
    results = {"a": 0.5, "b": 0.875}
    fig = plots.accuracy_comparison(results, title="demo")
    ax = fig.axes[0]
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == [0.5, 0.875]
    labels = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert labels["a"] > labels["b"], "the first model is drawn on top"
    assert texts(fig) == ["50.0%", "87.5%"]
    assert ax.get_title() == "demo"
    assert ax.get_legend() is not None, "the chance line is labelled"


def test_accuracy_comparison_without_chance_line_and_bad_values() -> None:
    fig = plots.accuracy_comparison({"a": 0.2}, chance=None)
    assert fig.axes[0].get_legend() is None
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plots.accuracy_comparison({"a": 87.0})


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


def test_prediction_grid_colours_wrong_predictions_red() -> None:
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    probs = np.eye(10)[[0, 1, 2, 3]]
    fig = plots.prediction_grid(images, probs, np.array([0, 1, 5, 3]), ncols=2)
    titles = [ax.title for ax in fig.axes if ax.images]
    assert len(titles) == 4
    colours = [matplotlib.colors.to_hex(t.get_color()) for t in titles]
    assert colours[2] == matplotlib.colors.to_hex("tab:red")
    assert colours[0] == matplotlib.colors.to_hex("tab:blue")
    with pytest.raises(ValueError, match="one entry per example"):
        plots.prediction_grid(images, probs[:3], np.array([0, 1, 2, 3]))


def test_class_metrics_groups_bars_and_names_bad_lengths() -> None:
    fig = plots.class_metrics({"precision": np.linspace(0.5, 1, 10), "recall": np.ones(10)})
    assert len(fig.axes[0].patches) == 20
    with pytest.raises(ValueError, match="expected 10"):
        plots.class_metrics({"a": np.ones(10), "b": np.ones(9)})


def test_experiment_results_bars_per_variant_with_accuracy_and_time() -> None:
    rows = [
        {"variant": "base", "val_accuracy": 0.84, "train_accuracy": 0.95, "seconds": 30},
        {"variant": "dropout", "val_accuracy": 0.83, "train_accuracy": 0.88, "seconds": 31.4},
    ]
    fig = plots.experiment_results(rows, title="t")
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == [83.0, 84.0, 88.0, 95.0], "training and validation bars, in percent"
    assert texts(fig) == ["84.0%  (30 s)", "83.0%  (31 s)"]
    labels = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert labels["base"] > labels["dropout"], "the first variant is drawn on top"
    assert ax.get_title() == "t"
    only_val = plots.experiment_results([{"variant": "a", "val_accuracy": 0.5}])
    assert len(only_val.axes[0].patches) == 1 and only_val.axes[0].get_legend() is None
