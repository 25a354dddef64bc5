"""Every figure the lessons draw, written once.

Each function draws on a new matplotlib figure (or on the ``ax`` given),
returns the figure, and never calls ``plt.show()``: in a notebook the figure
appears because it is the cell's last expression, and scripts can save it.
The functions are grouped by the lesson that introduces them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

# --- Shared ------------------------------------------------------------------


def _names(class_names: Sequence[str] | None) -> Sequence[str]:
    if class_names is not None:
        return class_names
    from fmnist_utils.data import CLASS_NAMES

    return CLASS_NAMES


def image_grid(
    images: np.ndarray,
    labels: Sequence[int] | np.ndarray | None = None,
    *,
    class_names: Sequence[str] | None = None,
    ncols: int = 8,
    titles: Sequence[str] | None = None,
    cmap: str = "gray_r",
    size: float = 1.4,
) -> Figure:
    """Show images in a grid, each titled with its class name.

    Parameters
    ----------
    images : numpy.ndarray
        Images of shape ``(n, 28, 28)`` (any 2-D size works).
    labels : array-like of int, optional
        Class of each image, used for the titles.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    ncols : int, optional
        Images per row.
    titles : sequence of str, optional
        Titles to use instead of class names.
    cmap : str, optional
        Colour map; ``"gray_r"`` draws ink dark on white, like the photos.
    size : float, optional
        Inches per image.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width), got {images.shape}")
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False
    )
    names = _names(class_names)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= n:
            continue
        ax.imshow(images[index], cmap=cmap, vmin=0, vmax=255 if images.dtype == np.uint8 else None)
        if titles is not None:
            ax.set_title(titles[index], fontsize=8)
        elif labels is not None:
            ax.set_title(names[int(labels[index])], fontsize=8)
    fig.tight_layout()
    plt.close(fig)  # shown once, as the cell's value: not again by the inline backend
    return fig


def examples_per_class(
    x: np.ndarray,
    y: np.ndarray,
    *,
    per_class: int = 8,
    class_names: Sequence[str] | None = None,
    seed: int = 0,
) -> Figure:
    """Show ``per_class`` random examples of every class, one row per class.

    Parameters
    ----------
    x : numpy.ndarray
        Images, shape ``(n, 28, 28)``.
    y : numpy.ndarray
        Labels, shape ``(n,)``.
    per_class : int, optional
        Examples shown per class.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    seed : int, optional
        Seed of the random choice.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with the class names down the left side.
    """
    names = _names(class_names)
    rng = np.random.default_rng(seed)
    labels = np.unique(y)
    fig, axes = plt.subplots(
        len(labels), per_class, figsize=(per_class * 1.0 + 1.4, len(labels) * 1.0), squeeze=False
    )
    for row, label in zip(axes, labels, strict=True):
        chosen = rng.choice(np.flatnonzero(y == label), size=per_class, replace=False)
        for ax, index in zip(row, chosen, strict=True):
            ax.imshow(x[index], cmap="gray_r", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        row[0].set_ylabel(names[int(label)], rotation=0, ha="right", va="center", fontsize=10)
    fig.subplots_adjust(left=0.14, right=0.99, top=0.99, bottom=0.01, wspace=0.05, hspace=0.05)
    plt.close(fig)  # shown once, as the cell's value: not again by the inline backend
    return fig


# --- Lesson 1: pixels and labels ---------------------------------------------


def _new_figure(figsize: tuple[float, float]) -> Figure:
    """Make a figure that a notebook shows once, as the value of the cell.

    pyplot makes it, so Jupyter knows how to draw it, then lets go of it, so
    the inline backend does not show it a second time at the end of the cell
    (and nothing accumulates in pyplot's list of open figures).
    """
    fig = plt.figure(figsize=figsize)
    plt.close(fig)
    return fig


def pixel_values(
    image: np.ndarray,
    *,
    title: str | None = None,
    annotate: bool = True,
    size: float = 7.0,
) -> Figure:
    """Show one image as a grid of cells, each labelled with its pixel value.

    Parameters
    ----------
    image : numpy.ndarray
        One image, shape ``(height, width)``; uint8 (0-255) or float.
    title : str, optional
        Title above the image.
    annotate : bool, optional
        Write each pixel's value in its cell (readable up to about 30x30).
    size : float, optional
        Width and height of the figure in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must have shape (height, width), got {image.shape}")
    fig = _new_figure((size, size))
    ax = fig.subplots()
    vmax = 255 if image.dtype == np.uint8 else max(float(image.max()), 1e-12)
    ax.imshow(image, cmap="gray_r", vmin=0, vmax=vmax)
    if annotate:
        fontsize = max(3.0, min(9.0, size * 22 / max(image.shape)))
        for (row, col), value in np.ndenumerate(image):
            text = f"{value:d}" if np.issubdtype(image.dtype, np.integer) else f"{value:.1f}"
            dark = value > vmax / 2
            ax.text(
                col, row, text, ha="center", va="center", fontsize=fontsize,
                color="white" if dark else "black",
            )  # fmt: skip
    ax.set_xticks(range(0, image.shape[1], 4))
    ax.set_yticks(range(0, image.shape[0], 4))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def class_balance(
    counts: np.ndarray | Mapping[str, np.ndarray],
    *,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
) -> Figure:
    """Draw how many examples each class has, as bars.

    Parameters
    ----------
    counts : numpy.ndarray or mapping of str to numpy.ndarray
        Examples per class, shape ``(n_classes,)``; or one such array per
        split (``{"train": ..., "test": ...}``), drawn as grouped bars.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    normalize : bool, optional
        Draw each split's share of examples (its counts divided by their sum)
        instead of raw counts, so splits of different sizes compare.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    splits = dict(counts) if isinstance(counts, Mapping) else {"": counts}
    arrays = {name: np.asarray(c, dtype=float) for name, c in splits.items()}
    n_classes = {len(a) for a in arrays.values()}
    if len(n_classes) != 1:
        raise ValueError(f"every split needs one count per class, got lengths {n_classes}")
    n = n_classes.pop()
    names = list(_names(class_names))[:n]
    fig = _new_figure((8, 3.2))
    ax = fig.subplots()
    width = 0.8 / len(arrays)
    positions = np.arange(n)
    for offset, (split, values) in enumerate(arrays.items()):
        heights = values / values.sum() if normalize else values
        ax.bar(positions + (offset - (len(arrays) - 1) / 2) * width, heights, width, label=split)
    ax.set_xticks(positions, names, rotation=30, ha="right")
    ax.set_ylabel("share of examples" if normalize else "examples")
    if len(arrays) > 1 or "" not in arrays:
        ax.margins(y=0.18)  # headroom, so the legend covers no bar
        ax.legend(loc="upper center", ncols=len(arrays), frameon=False)
    ax.set_axisbelow(True)
    ax.grid(axis="y", alpha=0.4)
    fig.tight_layout()
    return fig


def pixel_histograms(
    x: np.ndarray,
    y: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    bins: int = 32,
) -> Figure:
    """Draw, for every class, the histogram of its pixel intensities.

    Parameters
    ----------
    x : numpy.ndarray
        Images, shape ``(n, height, width)``; uint8 (0-255) or float in [0, 1].
    y : numpy.ndarray
        Labels, shape ``(n,)``.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    bins : int, optional
        Number of intensity bins.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per class (share of pixels per bin, logarithmic axis, since
        most pixels are background), with the share of pixels that are 0.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels")
    names = _names(class_names)
    top = 255.0 if x.dtype == np.uint8 else 1.0
    edges = np.linspace(0, top, bins + 1)
    labels = np.unique(y)
    ncols = min(5, len(labels))
    nrows = int(np.ceil(len(labels) / ncols))
    fig = _new_figure((2.2 * ncols, 1.9 * nrows))
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    for ax in axes.flat[len(labels) :]:
        ax.axis("off")
    for ax, label in zip(axes.flat, labels, strict=False):
        pixels = x[y == label].ravel()
        hist, _ = np.histogram(pixels, bins=edges)
        ax.stairs(hist / pixels.size, edges, fill=True, alpha=0.8)
        ax.set_yscale("log")
        ax.set_title(f"{names[int(label)]}\n{np.mean(pixels == 0):.0%} of pixels are 0", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("intensity", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("share of pixels", fontsize=8)
    fig.tight_layout()
    return fig


def class_images(
    images: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    cmap: str = "gray_r",
    ncols: int = 5,
    colorbar: bool = True,
    center: bool = False,
) -> Figure:
    """Show one image per class (a mean or spread image) on a shared colour scale.

    Parameters
    ----------
    images : numpy.ndarray
        Shape ``(n_classes, height, width)``, or ``(n_classes, height * width)``
        for square images; image ``k`` belongs to class ``k``.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    title : str, optional
        Title of the whole figure.
    cmap : str, optional
        Colour map.
    ncols : int, optional
        Images per row.
    colorbar : bool, optional
        Draw one colour bar for all images (they share one scale).
    center : bool, optional
        Centre the colour scale on 0 (for weights, with a diverging ``cmap``
        such as ``"RdBu_r"``), so that 0 gets the middle colour.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    images = np.asarray(images, dtype=float)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"cannot make square images of {images.shape[1]} values each")
        images = images.reshape(len(images), side, side)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n_classes, height, width), got {images.shape}")
    names = _names(class_names)
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = _new_figure((1.7 * ncols + (0.8 if colorbar else 0), 1.9 * nrows + 0.4))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    vmin, vmax = float(images.min()), float(images.max())
    if center:
        vmax = max(abs(vmin), abs(vmax), 1e-12)
        vmin = -vmax
    shown = None
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < n:
            shown = ax.imshow(images[index], cmap=cmap, vmin=vmin, vmax=vmax)
            ax.set_title(names[index], fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if colorbar and shown is not None:
        fig.colorbar(shown, ax=axes, shrink=0.8, pad=0.02)
    return fig


def _annotated_matrix(
    ax,
    matrix: np.ndarray,
    names: Sequence[str],
    *,
    fmt: str,
    cmap: str,
    vmax: float | None = None,
):
    """Draw a square matrix as a heatmap with its values written in the cells."""
    shown = ax.imshow(matrix, cmap=cmap, vmin=0, vmax=vmax)
    top = float(matrix.max()) if vmax is None else vmax
    for (row, col), value in np.ndenumerate(matrix):
        ax.text(
            col, row, format(value, fmt), ha="center", va="center", fontsize=7,
            color="white" if value > 0.6 * top else "black",
        )  # fmt: skip
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, names, fontsize=8)
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
    names = list(_names(class_names))[: len(distances)]
    fig = _new_figure((6.4, 5.4))
    ax = fig.subplots()
    shown = _annotated_matrix(ax, distances, names, fmt=".1f", cmap="viridis_r")
    fig.colorbar(shown, ax=ax, label="Euclidean distance", shrink=0.85)
    ax.set_title(title)
    fig.tight_layout()
    return fig


# --- Lesson 2: baselines ------------------------------------------------------


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
    names = list(_names(class_names))
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
    fig = _new_figure((6.6, 5.6))
    ax = fig.subplots()
    shown = _annotated_matrix(
        ax, matrix, names, fmt=".2f" if normalize else "d", cmap="Blues",
        vmax=1.0 if normalize else None,
    )  # fmt: skip
    fig.colorbar(
        shown, ax=ax, shrink=0.85, label="share of the true class" if normalize else "examples"
    )
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(title if title is not None else f"accuracy {accuracy:.1%}")
    fig.tight_layout()
    return fig


def accuracy_comparison(
    results: Mapping[str, float],
    *,
    chance: float | None = 0.1,
    title: str = "Accuracy on the validation set",
) -> Figure:
    """Compare models' accuracies as horizontal bars, each labelled with its value.

    Parameters
    ----------
    results : mapping of str to float
        Accuracy in [0, 1] per model name, drawn top to bottom in order.
    chance : float or None, optional
        Draw a dashed line at this accuracy (guessing among ten balanced
        classes scores 0.1); ``None`` for no line.
    title : str, optional
        Title of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    names = list(results)
    values = np.array([float(results[name]) for name in names])
    if np.any((values < 0) | (values > 1)):
        raise ValueError(f"accuracies must lie in [0, 1], got {values}")
    fig = _new_figure((7, 0.5 * len(names) + 1.2))
    ax = fig.subplots()
    positions = np.arange(len(names))[::-1]
    ax.barh(positions, values, color="tab:blue")
    for position, value in zip(positions, values, strict=True):
        ax.text(value + 0.01, position, f"{value:.1%}", va="center", fontsize=9)
    if chance is not None:
        ax.axvline(chance, color="gray", linestyle="--", label=f"chance ({chance:.0%})")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(positions, names)
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("accuracy")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# --- Lesson 3: convolution filters ---------------------------------------------


# --- Lesson 4: pooling, padding, stride and shapes ----------------------------


# --- Lesson 5: build and train the CNN -----------------------------------------


# --- Lesson 6: evaluate and look inside ------------------------------------------


# --- Lesson 7: improve the CNN --------------------------------------------------


# --- Lesson 8: use your model ---------------------------------------------------
