"""Every figure the lessons draw, written once.

Each function draws on a new matplotlib figure (or on the ``ax`` given),
returns the figure, and never calls ``plt.show()``: in a notebook the figure
appears because it is the cell's last expression, and scripts can save it.
The functions are grouped by the lesson that introduces them.
"""

from __future__ import annotations

from collections.abc import Sequence

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


# --- Lesson 2: baselines ------------------------------------------------------


# --- Lesson 3: convolution filters ---------------------------------------------


# --- Lesson 4: pooling, padding, stride and shapes ----------------------------


# --- Lesson 5: build and train the CNN -----------------------------------------


# --- Lesson 6: evaluate and look inside ------------------------------------------


# --- Lesson 7: improve the CNN --------------------------------------------------


# --- Lesson 8: use your model ---------------------------------------------------
