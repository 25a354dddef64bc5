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


def _detached(fig: Figure) -> Figure:
    """Close ``fig`` in pyplot, so a notebook shows it once: as the cell's value.

    A figure pyplot still holds is drawn by the inline backend at the end of
    the cell *and* again as the cell's value; a closed one only as the value.
    """
    plt.close(fig)
    return fig


def _show_map(ax, values: np.ndarray, title: str | None = None) -> None:
    """Draw a 2-D map: white at 0, red/blue for signed maps, dark ink for non-negative ones."""
    values = np.asarray(values, dtype=np.float64)
    peak = float(np.abs(values).max()) or 1.0
    if values.min() < 0:
        ax.imshow(values, cmap="RdBu_r", vmin=-peak, vmax=peak)
    else:
        ax.imshow(values, cmap="gray_r", vmin=0, vmax=peak)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=9)


def _show_numbers(ax, values: np.ndarray, title: str | None = None, fmt: str = "{:.2f}") -> None:
    """Draw a small matrix as coloured cells, each with its value written in it."""
    values = np.asarray(values, dtype=np.float64)
    _show_map(ax, values, title)
    peak = float(np.abs(values).max()) or 1.0
    for (i, j), value in np.ndenumerate(values):
        dark = abs(value) > 0.6 * peak
        ax.text(
            j,
            i,
            fmt.format(value),
            ha="center",
            va="center",
            fontsize=8,
            color="white" if dark else "black",
        )


def convolution_step(image: np.ndarray, kernel: np.ndarray, row: int, col: int) -> Figure:
    """Show how one output value of a 'valid' filter is computed.

    Parameters
    ----------
    image : numpy.ndarray
        A 2-D image.
    kernel : numpy.ndarray
        A 2-D kernel, shape ``(kh, kw)``.
    row, col : int
        The output position: the window is ``image[row:row + kh, col:col + kw]``.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: the image with the window outlined, the window's values,
        the kernel's values; the title gives their elementwise product summed.
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    kh, kw = kernel.shape
    if not (0 <= row <= image.shape[0] - kh and 0 <= col <= image.shape[1] - kw):
        raise ValueError(f"the {kh}x{kw} window at ({row}, {col}) does not fit in {image.shape}")
    window = image[row : row + kh, col : col + kw]
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    _show_map(axes[0], image, "image")
    axes[0].add_patch(
        plt.Rectangle((col - 0.5, row - 0.5), kw, kh, fill=False, edgecolor="tab:orange", lw=2)
    )
    _show_numbers(axes[1], window, "window (orange box)")
    _show_numbers(axes[2], kernel, "kernel", fmt="{:g}")
    fig.suptitle(
        f"output[{row}, {col}] = sum(window × kernel) = {float((window * kernel).sum()):.3f}",
        fontsize=11,
    )
    fig.tight_layout()
    return _detached(fig)


def filter_gallery(
    image: np.ndarray,
    outputs: dict[str, np.ndarray],
    kernels: dict[str, np.ndarray] | None = None,
    *,
    size: float = 2.0,
) -> Figure:
    """Show an image next to filtered versions of it, with the kernels above.

    Signed outputs are drawn red (positive) and blue (negative) around a
    white 0; non-negative ones dark on white, like the images.

    Parameters
    ----------
    image : numpy.ndarray
        The original 2-D image.
    outputs : dict of str to numpy.ndarray
        Each filtered image, by title.
    kernels : dict of str to numpy.ndarray, optional
        The kernel that made each output, same keys; drawn in a row above.
    size : float, optional
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    ncols = 1 + len(outputs)
    nrows = 2 if kernels else 1
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(ncols * size, nrows * size * 1.1),
        squeeze=False,
        gridspec_kw={"height_ratios": [0.8, 1] if kernels else [1]},
    )
    _show_map(axes[-1, 0], image, "original")
    for ax, (title, output) in zip(axes[-1, 1:], outputs.items(), strict=True):
        _show_map(ax, output, title)
    if kernels:
        axes[0, 0].axis("off")
        for ax, title in zip(axes[0, 1:], outputs, strict=True):
            _show_numbers(ax, kernels[title], fmt="{:.2g}")
    fig.tight_layout()
    return _detached(fig)


def feature_map_row(
    maps: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    title: str | None = None,
    size: float = 2.0,
) -> Figure:
    """Show the channels of a feature-map stack side by side.

    Parameters
    ----------
    maps : numpy.ndarray
        A stack of shape ``(height, width, channels)``.
    titles : sequence of str, optional
        One title per channel (default: ``channel 0``, ``channel 1``, ...).
    title : str, optional
        The figure's title (default: the stack's shape).
    size : float, optional
        Inches per map.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per channel, each coloured like :func:`filter_gallery`.
    """
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (height, width, channels), got {maps.shape}")
    channels = maps.shape[-1]
    titles = [f"channel {c}" for c in range(channels)] if titles is None else titles
    if len(titles) != channels:
        raise ValueError(f"got {len(titles)} titles for {channels} channels")
    fig, axes = plt.subplots(1, channels, figsize=(channels * size, size * 1.15), squeeze=False)
    for c, ax in enumerate(axes[0]):
        _show_map(ax, maps[..., c], f"{titles[c]}\n[:, :, {c}]")
    fig.suptitle(title or f"a feature-map stack of shape {maps.shape}", fontsize=10)
    fig.tight_layout()
    return _detached(fig)


# --- Lesson 4: pooling, padding, stride and shapes ----------------------------


def pooling_grid(x: np.ndarray, outputs: dict[str, np.ndarray], size: int = 2) -> Figure:
    """Show a small input and its pooled versions, each window in its own colour.

    Parameters
    ----------
    x : numpy.ndarray
        A small 2-D input, e.g. ``(6, 6)``.
    outputs : dict of str to numpy.ndarray
        Pooled versions of ``x`` (window ``size``, stride ``size``), by title.
    size : int, optional
        The pooling window's side.

    Returns
    -------
    matplotlib.figure.Figure
        The input with its windows tinted, then each output tinted to match.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D, got shape {x.shape}")
    tints = np.array(
        [[0.99, 0.85, 0.70], [0.75, 0.87, 0.97], [0.80, 0.93, 0.78], [0.93, 0.82, 0.95]]
    )

    def tint(i: int, j: int) -> np.ndarray:
        return tints[(i % 2) * 2 + (j % 2)]

    def draw(ax, values: np.ndarray, block: int, title: str) -> None:
        rgb = np.ones((*values.shape, 3))
        for i, j in np.ndindex(values.shape):
            if i // block < values.shape[0] // block and j // block < values.shape[1] // block:
                rgb[i, j] = tint(i // block, j // block)
        ax.imshow(rgb)
        for (i, j), value in np.ndenumerate(values):
            ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=9)
        ax.set_xticks(np.arange(-0.5, values.shape[1], block), minor=False)
        ax.set_yticks(np.arange(-0.5, values.shape[0], block), minor=False)
        ax.grid(color="black", linewidth=1.5)
        ax.tick_params(length=0, labelbottom=False, labelleft=False)
        ax.set_title(f"{title}\n{values.shape}", fontsize=10)

    panels = 1 + len(outputs)
    widths = [x.shape[1]] + [np.asarray(o).shape[1] for o in outputs.values()]
    fig, axes = plt.subplots(
        1,
        panels,
        figsize=(0.55 * sum(widths) + 0.6 * panels, 0.55 * x.shape[0] + 0.8),
        gridspec_kw={"width_ratios": widths},
        squeeze=False,
    )
    draw(axes[0, 0], x, size, "input")
    for ax, (title, out) in zip(axes[0, 1:], outputs.items(), strict=True):
        draw(ax, np.asarray(out, dtype=np.float64), 1, title)
    fig.tight_layout()
    return _detached(fig)


def _receptive_width(layers: Sequence[tuple[str, int, int]]) -> int:
    width, jump = 1, 1
    for _, kernel, stride in layers:
        width += (kernel - 1) * jump
        jump *= stride
    return width


def receptive_field_diagram(
    layers: Sequence[tuple[str, int, int]], n_input: int = 16, *, unit: int | None = None
) -> Figure:
    """Draw, in 1-D, which input pixels one unit of the last layer depends on.

    Parameters
    ----------
    layers : sequence of (str, int, int)
        ``(name, kernel, stride)`` per layer, input first; 'valid' padding.
    n_input : int, optional
        Input pixels drawn.
    unit : int, optional
        Which unit of the last layer to trace (default: the middle one).

    Returns
    -------
    matplotlib.figure.Figure
        One row of units per layer, the input at the bottom; the traced unit
        and everything it depends on in orange, with the window each layer sees.
    """
    counts = [n_input]
    for name, kernel, stride in layers:
        n = (counts[-1] - kernel) // stride + 1
        if n < 1:
            raise ValueError(f"{name}: a {kernel}-wide kernel does not fit in {counts[-1]} units")
        counts.append(n)
    # centre of each unit, in input pixel coordinates
    centres = [np.arange(n_input, dtype=np.float64)]
    for (_, kernel, stride), n in zip(layers, counts[1:], strict=True):
        prev = centres[-1]
        centres.append(np.array([prev[i * stride : i * stride + kernel].mean() for i in range(n)]))
    unit = counts[-1] // 2 if unit is None else unit
    active = [np.array([unit])]
    for _, kernel, stride in reversed(layers):
        lows = active[-1] * stride
        active.append(np.arange(lows.min(), lows.max() + kernel))
    active = active[::-1]

    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * n_input + 3.0), 1.1 * (len(layers) + 1) + 0.4))
    names = ["input", *(name for name, _, _ in layers)]
    for level, (xs, on) in enumerate(zip(centres, active, strict=True)):
        if level > 0:
            _, kernel, stride = layers[level - 1]
            for i in on:
                for j in range(i * stride, i * stride + kernel):
                    ax.plot(
                        [xs[i], centres[level - 1][j]],
                        [level, level - 1],
                        color="tab:orange",
                        lw=1,
                        zorder=1,
                    )
        colors = ["tab:orange" if i in set(on.tolist()) else "lightgray" for i in range(len(xs))]
        ax.scatter(xs, np.full(len(xs), level), s=120, c=colors, edgecolors="black", zorder=2)
        label = f"{names[level]}  ({len(xs)} units)"
        ax.text(-1.2, level, label, ha="right", va="center", fontsize=9)
        seen = _receptive_width(layers[:level])
        ax.text(
            n_input + 0.2,
            level,
            f"each unit sees {seen} input pixel{'s' if seen > 1 else ''}",
            va="center",
            fontsize=9,
            color="tab:orange" if level else "black",
        )
    ax.set_xlim(-1.2 - 0.16 * max(len(n) for n in names) - 3, n_input + 6)
    ax.set_ylim(-0.6, len(layers) + 0.6)
    ax.axis("off")
    fig.tight_layout()
    return _detached(fig)


def shift_tolerance(shifts: Sequence[int], distances: dict[str, Sequence[float]]) -> Figure:
    """Plot how much each representation changes when the image shifts.

    Parameters
    ----------
    shifts : sequence of int
        The shifts tried, in pixels.
    distances : dict of str to sequence of float
        Per representation, the mean relative change at each shift.

    Returns
    -------
    matplotlib.figure.Figure
        One line per representation; lower means more tolerant to shifts.
    """
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, values in distances.items():
        if len(values) != len(shifts):
            raise ValueError(f"{name}: {len(values)} distances for {len(shifts)} shifts")
        ax.plot(shifts, values, marker="o", label=name)
    ax.set_xticks(list(shifts))
    ax.set_xlabel("shift to the right (pixels)")
    ax.set_ylabel("relative change\n‖f(x) − f(shifted x)‖ / ‖f(x)‖")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return _detached(fig)


def layer_sizes(
    names: Sequence[str], shapes: Sequence[tuple[int, ...]], params: Sequence[int]
) -> Figure:
    """Show, per layer, how many numbers it outputs per image and how many weights it has.

    Parameters
    ----------
    names : sequence of str
        Layer names, input first.
    shapes : sequence of tuple of int
        Each layer's output shape for one image (no batch axis).
    params : sequence of int
        Each layer's number of trainable parameters.

    Returns
    -------
    matplotlib.figure.Figure
        Two bar charts side by side, layers top to bottom, on log scales.
    """
    if not len(names) == len(shapes) == len(params):
        raise ValueError("names, shapes and params must have one entry per layer")
    sizes = [int(np.prod(shape)) for shape in shapes]
    labels = [f"{name}  {tuple(shape)}" for name, shape in zip(names, shapes, strict=True)]
    y = np.arange(len(names))[::-1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.45 * len(names) + 1.2), sharey=True)
    left.barh(y, sizes, color="tab:blue")
    right.barh(y, [max(p, 0) for p in params], color="tab:green")
    for ax, values, title in ((left, sizes, "numbers out, per image"), (right, params, "weights")):
        ax.set_xscale("symlog", linthresh=1)
        ax.set_title(title, fontsize=10)
        for yi, value in zip(y, values, strict=True):
            ax.text(max(value, 1) * 1.1, yi, f"{value:,}", va="center", fontsize=8)
        ax.set_xlim(0, max(max(values), 1) * 30)
    left.set_yticks(y, labels, fontsize=9)
    fig.tight_layout()
    return _detached(fig)


# --- Lesson 5: build and train the CNN -----------------------------------------


def learning_curves(history, *, metrics: Sequence[str] = ("loss", "accuracy")) -> Figure:
    """Plot training and validation curves, one panel per metric, epoch by epoch.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        What ``model.fit`` returns, or its ``history`` dict: lists per metric,
        validation ones prefixed ``val_``.
    metrics : sequence of str, optional
        Which metrics to draw; those missing from ``history`` are skipped.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric; a dot marks the best validation epoch (lowest
        loss, highest anything else).
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("history must be what model.fit returns, or its non-empty .history dict")
    shown = [m for m in metrics if m in logs or f"val_{m}" in logs]
    if not shown:
        raise ValueError(f"none of {list(metrics)} is in the history; it has {sorted(logs)}")
    fig, axes = plt.subplots(1, len(shown), figsize=(4.8 * len(shown), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], shown, strict=True):
        for key, label, style in (
            (metric, "training", "-o"),
            (f"val_{metric}", "validation", "-s"),
        ):
            if key in logs:
                values = np.asarray(logs[key], dtype=float)
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, style, ms=3, label=label)
        if f"val_{metric}" in logs:
            values = np.asarray(logs[f"val_{metric}"], dtype=float)
            best = int(np.argmin(values) if "loss" in metric else np.argmax(values))
            ax.plot(best + 1, values[best], "o", ms=9, mfc="none", mec="black", label="best")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _detached(fig)


# --- Lesson 6: evaluate and look inside ------------------------------------------


def prediction_grid(
    images: np.ndarray,
    probs: np.ndarray,
    y_true: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    ncols: int = 3,
) -> Figure:
    """Show each image beside a bar chart of its predicted probabilities.

    The predicted class's bar is red when the prediction is wrong, blue when
    it is right; the true class's bar is green when it is not the predicted one.

    Parameters
    ----------
    images : numpy.ndarray
        Images, shape ``(n, 28, 28)`` (or ``(n, 28, 28, 1)``).
    probs : numpy.ndarray
        Class probabilities, shape ``(n, n_classes)``.
    y_true : numpy.ndarray
        True labels, shape ``(n,)``.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    ncols : int, optional
        Image-and-chart pairs per row.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; each image is titled "predicted (confidence) / true",
        in red when wrong.
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[..., 0]
    probs = np.asarray(probs, dtype=float)
    y_true = np.asarray(y_true).astype(int)
    if not len(images) == len(probs) == len(y_true):
        raise ValueError(
            f"images, probs and y_true need one entry per example, got "
            f"{len(images)}, {len(probs)} and {len(y_true)}"
        )
    names = _names(class_names)
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, 2 * ncols, figsize=(4.4 * ncols, 2.0 * nrows), squeeze=False,
        gridspec_kw={"width_ratios": [1, 1.3] * ncols},
    )  # fmt: skip
    for ax in axes.flat:
        ax.axis("off")
    for index in range(n):
        row, col = divmod(index, ncols)
        ax_img, ax_bar = axes[row, 2 * col], axes[row, 2 * col + 1]
        predicted = int(np.argmax(probs[index]))
        right = predicted == y_true[index]
        colour = "tab:blue" if right else "tab:red"
        ax_img.imshow(images[index], cmap="gray_r")
        ax_img.set_title(
            f"{names[predicted]} {probs[index, predicted]:.0%}\n(true: {names[y_true[index]]})",
            fontsize=8, color=colour,
        )  # fmt: skip
        ax_bar.axis("on")
        bars = ax_bar.bar(range(probs.shape[1]), probs[index], color="lightgray")
        bars[predicted].set_color(colour)
        if not right:
            bars[y_true[index]].set_color("tab:green")
        ax_bar.set_ylim(0, 1)
        ax_bar.set_xticks(range(probs.shape[1]))
        ax_bar.set_xticklabels(range(probs.shape[1]), fontsize=6)
        ax_bar.set_yticks([])
    fig.tight_layout()
    return _detached(fig)


def class_metrics(
    values: dict[str, np.ndarray], *, class_names: Sequence[str] | None = None
) -> Figure:
    """Compare per-class scores (precision, recall, ...) as grouped horizontal bars.

    Parameters
    ----------
    values : dict of str to numpy.ndarray
        Each metric's value per class, in label order, between 0 and 1.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).

    Returns
    -------
    matplotlib.figure.Figure
        One group of bars per class, the worst classes easy to spot.
    """
    if not values:
        raise ValueError("values must hold at least one metric")
    arrays = {name: np.asarray(v, dtype=float) for name, v in values.items()}
    n = len(next(iter(arrays.values())))
    names = list(_names(class_names))[:n]
    height = 0.8 / len(arrays)
    fig, ax = plt.subplots(figsize=(7, 0.45 * n + 1))
    y = np.arange(n)[::-1]
    for offset, (metric, v) in enumerate(arrays.items()):
        if len(v) != n:
            raise ValueError(f"{metric} has {len(v)} values, expected {n}")
        ax.barh(y - offset * height + 0.4 - height / 2, v, height, label=metric)
    ax.set_yticks(y, names)
    low = min(float(min(v.min() for v in arrays.values())), 0.9)
    ax.set_xlim(max(0.0, low - 0.05), 1.0)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return _detached(fig)


def filters(kernels: np.ndarray, *, ncols: int = 8, titles: Sequence[str] | None = None) -> Figure:
    """Draw 2-D convolution kernels, red positive and blue negative around a white 0.

    Parameters
    ----------
    kernels : numpy.ndarray
        A Keras kernel of shape ``(kh, kw, 1, n)`` or a stack ``(kh, kw, n)``.
    ncols : int, optional
        Kernels per row.
    titles : sequence of str, optional
        One title per kernel (default: its index).

    Returns
    -------
    matplotlib.figure.Figure
        One small panel per kernel, each on its own colour scale.
    """
    kernels = np.asarray(kernels, dtype=float)
    if kernels.ndim == 4:
        if kernels.shape[2] != 1:
            raise ValueError(
                f"expected one input channel (kh, kw, 1, n), got {kernels.shape}: "
                "pick one input channel first"
            )
        kernels = kernels[:, :, 0, :]
    if kernels.ndim != 3:
        raise ValueError(
            f"kernels must have shape (kh, kw, n) or (kh, kw, 1, n), got {kernels.shape}"
        )
    n = kernels.shape[-1]
    titles = [str(i) for i in range(n)] if titles is None else titles
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.25 * nrows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < n:
            kernel = kernels[..., index]
            peak = float(np.abs(kernel).max()) or 1.0
            ax.imshow(kernel, cmap="RdBu_r", vmin=-peak, vmax=peak)
            ax.set_title(titles[index], fontsize=8)
    fig.tight_layout()
    return _detached(fig)


def feature_maps(
    maps: np.ndarray, *, ncols: int = 8, title: str | None = None, size: float = 1.1
) -> Figure:
    """Draw every channel of one image's feature-map stack in a grid.

    Parameters
    ----------
    maps : numpy.ndarray
        One stack, shape ``(height, width, channels)`` (a leading batch axis of 1
        is dropped).
    ncols : int, optional
        Maps per row.
    title : str, optional
        The figure's title (default: the stack's shape).
    size : float, optional
        Inches per map.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per channel, dark where the channel responds strongly.
    """
    maps = np.asarray(maps, dtype=float)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (height, width, channels), got {maps.shape}")
    n = maps.shape[-1]
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.4), squeeze=False
    )
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < n:
            ax.imshow(maps[..., index], cmap="gray_r", vmin=min(0.0, maps[..., index].min()))
            ax.set_title(str(index), fontsize=7)
    fig.suptitle(title or f"feature maps, shape {maps.shape}", fontsize=10)
    fig.tight_layout()
    return _detached(fig)


def saliency(images: np.ndarray, maps: np.ndarray, titles: Sequence[str] | None = None) -> Figure:
    """Show images above their saliency maps, and the maps laid over the images.

    Parameters
    ----------
    images : numpy.ndarray
        Images, shape ``(n, 28, 28)`` (or ``(n, 28, 28, 1)``).
    maps : numpy.ndarray
        One non-negative map per image, same height and width.
    titles : sequence of str, optional
        One title per image.

    Returns
    -------
    matplotlib.figure.Figure
        Three rows: the images, the maps (dark = the class score is sensitive
        to that pixel), and the maps in colour over the faded images.
    """
    images = np.asarray(images, dtype=float)
    maps = np.asarray(maps, dtype=float)
    if images.ndim == 4:
        images = images[..., 0]
    if maps.ndim == 4:
        maps = maps[..., 0]
    if images.shape != maps.shape or images.ndim != 3:
        raise ValueError(
            f"images and maps must both have shape (n, height, width); got {images.shape} "
            f"and {maps.shape}"
        )
    n = len(images)
    fig, axes = plt.subplots(3, n, figsize=(1.6 * n, 5.0), squeeze=False)
    for index in range(n):
        peak = float(maps[index].max()) or 1.0
        axes[0, index].imshow(images[index], cmap="gray_r")
        axes[1, index].imshow(maps[index], cmap="gray_r", vmin=0, vmax=peak)
        axes[2, index].imshow(images[index], cmap="gray_r", alpha=0.5)
        axes[2, index].imshow(maps[index], cmap="inferno", alpha=0.6, vmin=0, vmax=peak)
        if titles is not None:
            axes[0, index].set_title(titles[index], fontsize=8)
        for ax in axes[:, index]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("image", fontsize=9)
    axes[1, 0].set_ylabel("saliency", fontsize=9)
    axes[2, 0].set_ylabel("overlay", fontsize=9)
    fig.tight_layout()
    return _detached(fig)


# --- Lesson 7: improve the CNN --------------------------------------------------

# Imported here, not at the top, so each lesson's section merges on its own.
from typing import Any  # noqa: E402


def _history_dict(history: Any) -> dict[str, list[float]]:
    """Accept a ``keras.callbacks.History`` or its ``.history`` dict; return the dict."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(
            f"expected a keras History or a dict of lists, got {type(history).__name__}"
        )
    return {key: [float(v) for v in values] for key, values in logs.items()}


def overfitting_curves(history: Any, *, title: str | None = None) -> Figure:
    """Plot loss and accuracy per epoch, training against validation, and mark the best epoch.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        What ``model.fit(..., validation_data=...)`` returned, or its
        ``.history`` dict, with ``loss``, ``val_loss``, ``accuracy`` and
        ``val_accuracy``.
    title : str, optional
        A title above both panels.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels. The dotted line marks the epoch with the lowest validation
        loss; the shaded area is the gap between training and validation.
    """
    logs = _history_dict(history)
    for key in ("loss", "val_loss"):
        if key not in logs:
            raise ValueError(
                f"the history has no {key!r} (it has {sorted(logs)}); "
                "train with validation_data=... to get validation curves"
            )
    epochs = np.arange(1, len(logs["loss"]) + 1)
    best = int(np.argmin(logs["val_loss"])) + 1
    fig = _new_figure((10, 3.6))
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        if metric not in logs:
            ax.axis("off")
            continue
        train, val = np.asarray(logs[metric]), np.asarray(logs[f"val_{metric}"])
        ax.plot(epochs, train, "o-", color="tab:blue", label="training", markersize=3)
        ax.plot(epochs, val, "o-", color="tab:orange", label="validation", markersize=3)
        ax.fill_between(epochs, train, val, color="tab:red", alpha=0.12, label="gap")
        ax.axvline(best, color="gray", linestyle=":", label=f"lowest val. loss (epoch {best})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_curves(
    histories: Mapping[str, Any], *, metric: str = "accuracy", title: str | None = None
) -> Figure:
    """Overlay several runs: training dashed, validation solid, one colour per run.

    Parameters
    ----------
    histories : mapping of str to History or dict
        Run name to what ``model.fit`` returned.
    metric : str, optional
        ``"accuracy"`` or ``"loss"``.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig = _new_figure((6.5, 4))
    ax = fig.subplots()
    for index, (name, history) in enumerate(histories.items()):
        logs = _history_dict(history)
        colour = f"C{index}"
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], "--", color=colour, label=f"{name}: training")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], "-", color=colour, label=f"{name}: validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def augmentation_gallery(
    examples: Mapping[str, np.ndarray],
    *,
    sensible: Mapping[str, bool] | None = None,
    size: float = 1.2,
) -> Figure:
    """Show a few random results of each transformation, one row per transformation.

    Parameters
    ----------
    examples : mapping of str to numpy.ndarray
        Transformation name to its outputs, shape ``(n, 28, 28)`` or
        ``(n, 28, 28, 1)``, values in [0, 1].
    sensible : mapping of str to bool, optional
        Whether each transformation makes sense for clothing; the row's label
        says so, in green or red.
    size : float, optional
        Inches per image.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, the transformations' names down the left side.
    """
    rows = {name: np.asarray(images).reshape(len(images), *np.shape(images)[1:3])
            for name, images in examples.items()}  # fmt: skip
    ncols = max(len(images) for images in rows.values())
    fig = _new_figure((ncols * size + 2.4, len(rows) * size))
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    for row, (name, images) in zip(axes, rows.items(), strict=True):
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
        for ax, image in zip(row, images, strict=False):
            ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        label, colour = name, "black"
        if sensible is not None and name in sensible:
            ok = sensible[name]
            label = f"{name}\n{'makes sense' if ok else 'does not'}"
            colour = "tab:green" if ok else "tab:red"
        row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9, color=colour)
    fig.subplots_adjust(left=0.22, right=0.99, top=0.99, bottom=0.01, wspace=0.05, hspace=0.08)
    return fig


def learning_rate_schedule(
    schedule: Any,
    total_steps: int,
    *,
    steps_per_epoch: int | None = None,
    title: str | None = None,
) -> Figure:
    """Plot a learning rate against training progress.

    Parameters
    ----------
    schedule : callable
        A ``keras.optimizers.schedules.LearningRateSchedule``, or any function
        of the step number (0, 1, ...) that returns the learning rate.
    total_steps : int
        Steps of the whole training (batches per epoch times epochs).
    steps_per_epoch : int, optional
        When given, the x-axis counts epochs instead of steps.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; the plotted values are ``fig.axes[0].lines[0].get_ydata()``.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be at least 1, got {total_steps}")
    steps = np.unique(np.linspace(0, total_steps, min(total_steps + 1, 400)).round().astype(int))
    rates = np.array([float(np.asarray(schedule(int(step)))) for step in steps])
    x = steps / steps_per_epoch if steps_per_epoch else steps
    fig = _new_figure((6.5, 3.2))
    ax = fig.subplots()
    ax.plot(x, rates, color="tab:purple")
    ax.set_xlabel("epoch" if steps_per_epoch else "step")
    ax.set_ylabel("learning rate")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    peak = int(np.argmax(rates))
    ax.annotate(
        f"peak {rates[peak]:.2g}",
        (x[peak], rates[peak]),
        textcoords="offset points",
        xytext=(8, -12),
        fontsize=8,
    )
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def experiment_results(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> Figure:
    """Compare training variants: training and validation accuracy, and training time.

    Parameters
    ----------
    rows : sequence of mapping
        One per variant, in the order tried, with ``"variant"``,
        ``"val_accuracy"`` and optionally ``"train_accuracy"`` and ``"seconds"``.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars, the validation accuracy written at the end of each.
    """
    names = [str(row["variant"]) for row in rows]
    val = np.array([float(row["val_accuracy"]) for row in rows])
    fig = _new_figure((8, 0.55 * len(rows) + 1.4))
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    if all("train_accuracy" in row for row in rows):
        train = np.array([float(row["train_accuracy"]) for row in rows])
        ax.barh(y + 0.2, 100 * train, height=0.4, color="tab:blue", alpha=0.45, label="training")
        ax.barh(y - 0.2, 100 * val, height=0.4, color="tab:orange", label="validation")
        ax.legend(fontsize=8, loc="lower right")
    else:
        ax.barh(y, 100 * val, height=0.6, color="tab:orange")
    for yi, row, v in zip(y, rows, val, strict=True):
        note = f"{100 * v:.1f}%"
        if "seconds" in row:
            note += f"  ({float(row['seconds']):.0f} s)"
        ax.text(100 * v + 0.2, yi - (0.2 if "train_accuracy" in row else 0), note,
                va="center", fontsize=8)  # fmt: skip
    ax.set_yticks(y, names)
    low = 100 * min(val.min(), *(float(r.get("train_accuracy", 1)) for r in rows))
    ax.set_xlim(max(0.0, np.floor(low / 5) * 5 - 5), 100)
    ax.set_xlabel("accuracy (%)")
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


# --- Lesson 8: use your model ---------------------------------------------------


def top_k_bars(
    probs: np.ndarray,
    *,
    image: np.ndarray | None = None,
    k: int = 3,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Show an input image beside the model's probability for every class, the top ``k`` coloured.

    Parameters
    ----------
    probs : numpy.ndarray
        The model's output for one image, shape ``(n_classes,)`` (or ``(1, n_classes)``).
    image : numpy.ndarray, optional
        The 28x28 input, drawn on the left as the model sees it.
    k : int, optional
        How many of the most probable classes to highlight.
    class_names : sequence of str, optional
        Names per label (default: Fashion-MNIST's ten classes).
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    names = list(_names(class_names))[: len(probs)]
    top = np.argsort(probs)[::-1][:k]
    fig = _new_figure((7.5 if image is not None else 5, 3))
    if image is not None:
        ax_img, ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
        ax_img.imshow(np.asarray(image).reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        ax_img.set_xticks([])
        ax_img.set_yticks([])
        ax_img.set_title("what the model sees", fontsize=9)
    else:
        ax = fig.subplots()
    colours = ["tab:orange" if i in top else "lightgray" for i in range(len(probs))]
    y = np.arange(len(probs))[::-1]
    ax.barh(y, 100 * probs, color=colours)
    ax.set_yticks(y, names, fontsize=8)
    for rank, index in enumerate(top, start=1):
        ax.text(100 * probs[index] + 1, y[index], f"#{rank} {100 * probs[index]:.1f}%",
                va="center", fontsize=8)  # fmt: skip
    ax.set_xlim(0, 118)
    ax.set_xlabel("probability (%)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def preprocessing_steps(steps: Mapping[str, np.ndarray], *, size: float = 2.2) -> Figure:
    """Show an image at each step of a preprocessing pipeline, left to right.

    Parameters
    ----------
    steps : mapping of str to numpy.ndarray
        Step name to its image: RGB ``(h, w, 3)`` drawn as is, 2-D images in grey
        (0 black, 1 white), each on its own scale.
    size : float, optional
        Inches per image.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, the image's shape under each panel.
    """
    fig = _new_figure((size * len(steps), size * 1.25))
    axes = fig.subplots(1, len(steps), squeeze=False)[0]
    for ax, (name, image) in zip(axes, steps.items(), strict=True):
        image = np.asarray(image)
        if image.ndim == 3 and image.shape[-1] in (3, 4):
            ax.imshow(image)
        else:
            ax.imshow(image.squeeze(), cmap="gray")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(" x ".join(str(n) for n in image.shape), fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def distribution_shift(
    examples: Mapping[str, np.ndarray],
    accuracies: Mapping[str, float],
    *,
    size: float = 1.6,
) -> Figure:
    """Show one example of each changed test set, titled with the model's accuracy on it.

    Parameters
    ----------
    examples : mapping of str to numpy.ndarray
        Condition name to one 28x28 image (values in [0, 1]) of that condition.
    accuracies : mapping of str to float
        Condition name to test accuracy, 0-1.
    size : float, optional
        Inches per image.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per condition, in the order of ``examples``.
    """
    fig = _new_figure((size * len(examples), size * 1.35))
    axes = fig.subplots(1, len(examples), squeeze=False)[0]
    for ax, (name, image) in zip(axes, examples.items(), strict=True):
        ax.imshow(np.asarray(image).reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        acc = accuracies.get(name)
        colour = "black" if acc is None else ("tab:green" if acc >= 0.8 else "tab:red")
        ax.set_title(name + ("" if acc is None else f"\n{100 * acc:.1f}%"), fontsize=9,
                     color=colour)  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
