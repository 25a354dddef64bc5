"""Class-by-class matrices as annotated heatmaps: distances between classes, confusion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from fmnist_utils.plots.base import course_figure, label_names, write_values


def _annotated_matrix(
    ax: Axes,
    matrix: np.ndarray,
    names: Sequence[str],
    *,
    fmt: str,
    cmap: str,
    vmax: float | None = None,
) -> AxesImage:
    """Draw a square matrix as a heatmap with its values written in the cells."""
    shown = ax.imshow(matrix, cmap=cmap, vmin=0, vmax=vmax)
    top = float(matrix.max()) if vmax is None else vmax
    write_values(ax, matrix, fmt, dark_above=0.6 * top, size="x-small")
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, names, rotation=45, ha="right")
    ax.set_yticks(ticks, names)
    ax.tick_params(labelsize="small")  # ten class names on each side
    return shown


def distance_matrix(
    distances: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    title: str = "Distance between class mean images",
) -> Figure:
    """Draw a classes-by-classes distance matrix as an annotated heatmap.

    Parameters
    ----------
    distances : numpy.ndarray
        Square matrix, ``distances[i, j]`` the distance between classes i and j.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    title : str, optional
        Title of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; darker cells mean classes that are further apart.
    """
    distances = np.asarray(distances, dtype=float)
    if distances.ndim != 2 or distances.shape[0] != distances.shape[1]:
        raise ValueError(f"distances must be a square matrix, got shape {distances.shape}")
    names = list(label_names(class_names))[: len(distances)]
    with course_figure((6.4, 5.4)) as fig:
        ax = fig.subplots()
        shown = _annotated_matrix(ax, distances, names, fmt=".1f", cmap="viridis_r")
        fig.colorbar(shown, ax=ax, label="Euclidean distance", shrink=0.85)
        ax.set_title(title)
    return fig


def confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    normalize: bool = True,
    title: str | None = None,
) -> Figure:
    """Count which class was predicted for each true class, and draw it.

    Row ``i``, column ``j`` counts the examples of true class ``i`` that were
    predicted as class ``j``: the diagonal holds the correct predictions.

    Parameters
    ----------
    y_true : numpy.ndarray
        True labels, shape ``(n,)``.
    y_pred : numpy.ndarray
        Predicted labels, shape ``(n,)``, or scores per class, shape
        ``(n, n_classes)`` (a Keras model's output), whose row-wise argmax
        is the prediction.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    normalize : bool, optional
        Divide each row by its total, so a cell reads "share of this class
        predicted as that class" (the diagonal is each class's recall).
    title : str, optional
        Title; by default the overall accuracy.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; the matrix drawn is ``fig.axes[0].images[0].get_array()``.
    """
    y_true = np.asarray(y_true).astype(int).ravel()
    y_pred = np.asarray(y_pred)
    y_pred = (y_pred.argmax(axis=1) if y_pred.ndim == 2 else y_pred).astype(int).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}"
        )
    names = list(label_names(class_names))
    n = len(names)
    if y_true.size and (
        min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= n
    ):
        raise ValueError(f"labels must lie in 0..{n - 1} to match the {n} class names")
    counts = np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        matrix = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    else:
        matrix = counts
    with course_figure((6.6, 5.6)) as fig:
        ax = fig.subplots()
        shown = _annotated_matrix(
            ax,
            matrix,
            names,
            fmt=".2f" if normalize else "d",
            cmap="Blues",
            vmax=1.0 if normalize else None,
        )
        label = "share of the true class" if normalize else "examples"
        fig.colorbar(shown, ax=ax, shrink=0.85, label=label)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        accuracy = np.trace(counts) / max(counts.sum(), 1)
        ax.set_title(title if title is not None else f"accuracy {accuracy:.1%}")
    return fig
