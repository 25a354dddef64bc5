"""Class-by-class heatmaps: the right matrix, every cell written, bad input named."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_utils import plots

from .plot_checks import (
    NAMES,
    no_figures_left_open,  # noqa: F401 (autouse fixture)
    texts,
    tick_labels,
)


def test_distance_matrix_annotates_every_cell() -> None:
    d = np.array([[0.0, 1.25, 3.0], [1.25, 0.0, 2.0], [3.0, 2.0, 0.0]])
    fig = plots.distance_matrix(d, class_names=NAMES)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), d)
    assert len(ax.texts) == 9
    assert sorted({t.get_text() for t in ax.texts}) == ["0.0", "1.2", "2.0", "3.0"]
    assert tick_labels(ax) == NAMES


def test_distance_matrix_rejects_non_square() -> None:
    with pytest.raises(ValueError, match="square"):
        plots.distance_matrix(np.zeros((2, 3)))


def test_confusion_matrix_counts_rows_as_true_classes() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 0])
    fig = plots.confusion_matrix(y_true, y_pred, class_names=NAMES, normalize=False)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), [[2, 1, 0], [0, 2, 0], [1, 0, 0]])
    assert ax.get_title() == "accuracy 66.7%"
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "2" in texts(fig)


def test_confusion_matrix_normalizes_rows_and_accepts_scores() -> None:
    y_true = np.array([0, 0, 0, 0, 1, 2])
    scores = np.eye(3)[[0, 0, 0, 1, 1, 2]] * 5.0 - 1.0  # logits whose argmax is the prediction
    fig = plots.confusion_matrix(y_true, scores, class_names=NAMES, title="demo")
    matrix = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_allclose(matrix, [[0.75, 0.25, 0], [0, 1, 0], [0, 0, 1]])
    assert fig.axes[0].get_title() == "demo"
    assert "0.75" in texts(fig)


def test_confusion_matrix_keeps_an_absent_class_at_zero() -> None:
    fig = plots.confusion_matrix(np.array([0, 1]), np.array([0, 1]), class_names=NAMES)
    matrix = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_allclose(matrix[2], 0.0)


def test_confusion_matrix_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="same length"):
        plots.confusion_matrix(np.array([0, 1]), np.array([0]), class_names=NAMES)
    with pytest.raises(ValueError, match="0..2"):
        plots.confusion_matrix(np.array([0, 3]), np.array([0, 1]), class_names=NAMES)
