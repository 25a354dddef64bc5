"""Images and grids of images: samples, one image's pixels, class images, transformed images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from fmnist_utils.plots.base import bare, course_figure, grid_shape, label_names, write_values


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
    nrows, ncols = grid_shape(n, ncols)
    names = label_names(class_names)
    with course_figure((ncols * size, nrows * size * 1.15)) as fig:
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for index, ax in enumerate(axes.flat):
            ax.axis("off")
            if index >= n:
                continue
            vmax = 255 if images.dtype == np.uint8 else None
            ax.imshow(images[index], cmap=cmap, vmin=0, vmax=vmax)
            if titles is not None:
                ax.set_title(titles[index], size="small")
            elif labels is not None:
                ax.set_title(names[int(labels[index])], size="small")
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
    names = label_names(class_names)
    rng = np.random.default_rng(seed)
    labels = np.unique(y)
    height, width = np.shape(x)[1:3]
    gap = 2  # blank pixels between two images of a row
    with course_figure((per_class * 1.0 + 1.4, len(labels) * 1.0)) as fig:
        axes = fig.subplots(len(labels), 1, squeeze=False)[:, 0]
        for ax, label in zip(axes, labels, strict=True):
            chosen = rng.choice(np.flatnonzero(y == label), size=per_class, replace=False)
            # one image per row, the examples side by side: drawn far faster than an
            # axes per example
            row = np.zeros((height, per_class * (width + gap) - gap), dtype=np.asarray(x).dtype)
            for i, index in enumerate(chosen):
                row[:, i * (width + gap) : i * (width + gap) + width] = x[index]
            ax.imshow(row, vmin=0, vmax=255)
            bare(ax)
            ax.spines[:].set_visible(False)
            ax.set_ylabel(names[int(label)], rotation=0, ha="right", va="center")
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
    vmax = 255 if image.dtype == np.uint8 else max(float(image.max()), 1e-12)
    with course_figure((size, size)) as fig:
        ax = fig.subplots()
        ax.imshow(image, vmin=0, vmax=vmax)
        if annotate:
            # a cell's side in points, against the width of "255" in each relative size
            cell = 72 * size * 0.85 / max(image.shape)
            text_size = "xx-small" if cell < 22 else "x-small" if cell < 30 else "small"
            fmt = "d" if np.issubdtype(image.dtype, np.integer) else ".1f"
            write_values(ax, image, fmt, dark_above=vmax / 2, size=text_size)
        ax.set_xticks(range(0, image.shape[1], 4))
        ax.set_yticks(range(0, image.shape[0], 4))
        ax.set_xlabel("column")
        ax.set_ylabel("row")
        if title:
            ax.set_title(title)
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
    names = label_names(class_names)
    n = len(images)
    nrows, ncols = grid_shape(n, ncols)
    vmin, vmax = float(images.min()), float(images.max())
    if center:
        vmax = max(abs(vmin), abs(vmax), 1e-12)
        vmin = -vmax
    with course_figure((1.7 * ncols + (0.8 if colorbar else 0), 1.9 * nrows + 0.4)) as fig:
        axes = fig.subplots(nrows, ncols, squeeze=False)
        shown = None
        for index, ax in enumerate(axes.flat):
            ax.axis("off")
            if index < n:
                shown = ax.imshow(images[index], cmap=cmap, vmin=vmin, vmax=vmax)
                ax.set_title(names[index])
        if title:
            fig.suptitle(title)
        if colorbar and shown is not None:
            fig.colorbar(shown, ax=axes, shrink=0.8)
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
    rows = {
        name: np.asarray(images).reshape(len(images), *np.shape(images)[1:3])
        for name, images in examples.items()
    }
    ncols = max(len(images) for images in rows.values())
    with course_figure((ncols * size + 2.4, len(rows) * size)) as fig:
        axes = fig.subplots(len(rows), ncols, squeeze=False)
        for row, (name, images) in zip(axes, rows.items(), strict=True):
            for ax in row:
                bare(ax)
            for ax, image in zip(row, images, strict=False):
                ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
            label, colour = name, "black"
            if sensible is not None and name in sensible:
                ok = sensible[name]
                label = f"{name}\n{'makes sense' if ok else 'does not'}"
                colour = "tab:green" if ok else "tab:red"
            row[0].set_ylabel(label, rotation=0, ha="right", va="center", color=colour)
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
    with course_figure((size * len(steps), size * 1.25)) as fig:
        axes = fig.subplots(1, len(steps), squeeze=False)[0]
        for ax, (name, image) in zip(axes, steps.items(), strict=True):
            image = np.asarray(image)
            if image.ndim == 3 and image.shape[-1] in (3, 4):
                ax.imshow(image)
            else:
                ax.imshow(image.squeeze(), cmap="gray_r")
            ax.set_title(name)
            ax.set_xlabel(" x ".join(str(n) for n in image.shape), size="small")
            bare(ax)
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
    with course_figure((size * len(examples), size * 1.35)) as fig:
        axes = fig.subplots(1, len(examples), squeeze=False)[0]
        for ax, (name, image) in zip(axes, examples.items(), strict=True):
            ax.imshow(np.asarray(image).reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            acc = accuracies.get(name)
            colour = "black" if acc is None else ("tab:green" if acc >= 0.8 else "tab:red")
            suffix = "" if acc is None else f"\n{100 * acc:.1f}%"
            ax.set_title(name + suffix, color=colour)
            bare(ax)
    return fig
