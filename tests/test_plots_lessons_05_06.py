"""The figures of lessons 5 and 6: right panels, right data, bad input named, shown once."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fmnist_utils import plots  # noqa: E402

HISTORY = {
    "loss": [0.9, 0.5, 0.4],
    "val_loss": [0.6, 0.45, 0.5],
    "accuracy": [0.7, 0.8, 0.85],
    "val_accuracy": [0.75, 0.84, 0.83],
}


def test_learning_curves_one_panel_per_metric_and_best_epoch_marked() -> None:
    before = plt.get_fignums()
    fig = plots.learning_curves(HISTORY)
    assert plt.get_fignums() == before, "the figure must be closed in pyplot (shown once)"
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "loss" and acc_ax.get_title() == "accuracy"
    best = [line for line in loss_ax.lines if line.get_label() == "best"][0]
    assert list(best.get_xdata()) == [2] and list(best.get_ydata()) == [0.45]  # lowest val loss
    best_acc = [line for line in acc_ax.lines if line.get_label() == "best"][0]
    assert list(best_acc.get_xdata()) == [2]  # highest val accuracy


def test_learning_curves_accepts_a_history_object_and_names_bad_input() -> None:
    class History:
        history = {"loss": [1.0, 0.5]}

    assert len(plots.learning_curves(History()).axes) == 1
    with pytest.raises(ValueError, match="non-empty"):
        plots.learning_curves({})
    with pytest.raises(ValueError, match="none of"):
        plots.learning_curves({"mae": [1.0]})


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


def test_class_metrics_and_filters_and_feature_maps() -> None:
    fig = plots.class_metrics({"precision": np.linspace(0.5, 1, 10), "recall": np.ones(10)})
    assert len(fig.axes[0].patches) == 20
    with pytest.raises(ValueError, match="expected 10"):
        plots.class_metrics({"a": np.ones(10), "b": np.ones(9)})
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
