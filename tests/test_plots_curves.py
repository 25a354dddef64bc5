"""Training curves and the learning-rate schedule: the values given, the best epoch marked."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from fmnist_utils import plots

from .plot_checks import (
    no_figures_left_open,  # noqa: F401 (autouse fixture)
    texts,
)

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


def test_overfitting_curves_mark_the_lowest_validation_loss_and_the_gap() -> None:
    fig = plots.overfitting_curves(HISTORY, title="t")
    loss_ax, acc_ax = fig.axes
    assert fig._suptitle.get_text() == "t"
    lines = {line.get_label(): line for line in loss_ax.lines}
    np.testing.assert_allclose(lines["training"].get_ydata(), HISTORY["loss"])
    np.testing.assert_allclose(lines["validation"].get_ydata(), HISTORY["val_loss"])
    best = lines["lowest val. loss (epoch 2)"]
    assert list(best.get_xdata()) == [2, 2], "the dotted line stands at the lowest val. loss"
    assert len(loss_ax.collections) == 1 and len(acc_ax.collections) == 1, "the shaded gap"
    np.testing.assert_allclose(
        [line.get_ydata() for line in acc_ax.lines[:2]],
        [HISTORY["accuracy"], HISTORY["val_accuracy"]],
    )
    with pytest.raises(ValueError, match="validation_data"):
        plots.overfitting_curves({"loss": [1.0]})
    with pytest.raises(TypeError, match="History"):
        plots.overfitting_curves([1.0, 0.5])


def test_compare_curves_one_colour_per_run_training_dashed() -> None:
    other = {key: [v / 2 for v in values] for key, values in HISTORY.items()}
    fig = plots.compare_curves({"a": HISTORY, "b": other}, metric="loss", title="t")
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.lines}
    assert list(lines) == ["a: training", "a: validation", "b: training", "b: validation"]
    assert lines["a: training"].get_linestyle() == "--"
    assert lines["a: validation"].get_linestyle() == "-"
    assert lines["a: training"].get_color() == lines["a: validation"].get_color()
    assert lines["a: training"].get_color() != lines["b: training"].get_color()
    np.testing.assert_allclose(lines["b: validation"].get_ydata(), other["val_loss"])
    assert ax.get_ylabel() == "loss" and ax.get_title() == "t"


def test_learning_rate_schedule_plots_the_schedule() -> None:
    fig = plots.learning_rate_schedule(lambda step: 0.1 * (step + 1), 9, steps_per_epoch=3)
    line = fig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), 0.1 * np.arange(1, 11))
    np.testing.assert_allclose(line.get_xdata(), np.arange(10) / 3)
    assert fig.axes[0].get_xlabel() == "epoch"
    assert "peak 1" in texts(fig) or any("peak 1" in t.get_text() for t in fig.axes[0].texts)
    with pytest.raises(ValueError, match="at least 1"):
        plots.learning_rate_schedule(lambda step: 0.1, 0)


def test_step_losses_draws_each_run_and_marks_a_diverged_one() -> None:
    fig = plots.step_losses(
        {"small": [2.3, 2.2, 2.1], "diverging": [2.3, 3.0, 9.0, float("nan")]}, start=2.3
    )
    ax = fig.axes[0]
    small, diverging = ax.lines[0], ax.lines[1]
    np.testing.assert_allclose(small.get_ydata(), [2.3, 2.2, 2.1])
    assert list(small.get_xdata()) == [1, 2, 3], "steps count from 1"
    top = 2 * 2.3
    np.testing.assert_allclose(diverging.get_ydata(), [2.3, 3.0, top])  # cut at the top
    assert texts(fig) == ["diverged"], "only the run that left the panel is marked"
    assert ax.get_ylim()[1] >= top
    assert [line.get_label() for line in ax.lines] == ["small", "diverging", "before training"]


def test_step_losses_names_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one run"):
        plots.step_losses({})
    with pytest.raises(ValueError, match="'empty' has no losses"):
        plots.step_losses({"empty": []})


def test_descent_paths_draws_the_curve_and_every_step_in_its_own_panel() -> None:
    fig = plots.descent_paths(
        lambda s: (s - 3) ** 2, {"small": [0, 1.5, 2.25], "large": [0, 9, -9, 27]}, span=(0, 6)
    )
    assert len(fig.axes) == 2, "one panel per run"
    small, large = fig.axes
    curve = small.lines[0]
    np.testing.assert_allclose(curve.get_ydata(), (curve.get_xdata() - 3) ** 2)
    np.testing.assert_allclose(small.lines[1].get_xdata(), [0, 1.5, 2.25])
    np.testing.assert_allclose(small.lines[1].get_ydata(), [9, 2.25, 0.5625])
    np.testing.assert_allclose(large.lines[1].get_xdata(), [0, 6, 0, 6])  # clipped to the span
    assert "3 of 4 positions off the chart" in texts(fig), "positions outside the span are counted"
    assert "off the chart" not in " ".join(t.get_text() for t in small.texts)
    assert len([c for c in small.get_children() if type(c).__name__ == "Annotation"]) == 2


def test_descent_paths_names_bad_input() -> None:
    with pytest.raises(ValueError, match="low < high"):
        plots.descent_paths(abs, {"a": [1.0]}, span=(1, 1))


def test_descent_paths_without_runs_draws_the_curve_alone() -> None:
    fig = plots.descent_paths(lambda s: s * s, span=(-1, 1))
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1
