"""What a network computes inside: kernels, filtered images, feature maps, saliency."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from fmnist_utils.plots.base import (
    SIGNED_CMAP,
    bare,
    course_figure,
    grid_shape,
    show_map,
    show_numbers,
)


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
    with course_figure((ncols * size, nrows * size * 1.1)) as fig:
        axes = fig.subplots(
            nrows,
            ncols,
            squeeze=False,
            gridspec_kw={"height_ratios": [0.8, 1] if kernels else [1]},
        )
        show_map(axes[-1, 0], image, "original")
        for ax, (title, output) in zip(axes[-1, 1:], outputs.items(), strict=True):
            show_map(ax, output, title)
        if kernels:
            axes[0, 0].axis("off")
            for ax, title in zip(axes[0, 1:], outputs, strict=True):
                show_numbers(ax, kernels[title], fmt=".2g")
    return fig


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
    with course_figure((channels * size, size * 1.15)) as fig:
        axes = fig.subplots(1, channels, squeeze=False)[0]
        for c, ax in enumerate(axes):
            show_map(ax, maps[..., c], f"{titles[c]}\n[:, :, {c}]")
        fig.suptitle(title or f"a feature-map stack of shape {maps.shape}")
    return fig


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
    nrows, ncols = grid_shape(n, ncols)
    with course_figure((1.1 * ncols, 1.25 * nrows)) as fig:
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for index, ax in enumerate(axes.flat):
            ax.axis("off")
            if index < n:
                kernel = kernels[..., index]
                peak = float(np.abs(kernel).max()) or 1.0
                ax.imshow(kernel, cmap=SIGNED_CMAP, vmin=-peak, vmax=peak)
                ax.set_title(titles[index], size="small")
    return fig


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
    nrows, ncols = grid_shape(n, ncols)
    with course_figure((size * ncols, size * nrows + 0.4)) as fig:
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for index, ax in enumerate(axes.flat):
            ax.axis("off")
            if index < n:
                ax.imshow(maps[..., index], vmin=min(0.0, maps[..., index].min()))
                ax.set_title(str(index), size="small")
        fig.suptitle(title or f"feature maps, shape {maps.shape}", size="medium")
    return fig


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
    with course_figure((1.6 * n, 5.0)) as fig:
        axes = fig.subplots(3, n, squeeze=False)
        for index in range(n):
            peak = float(maps[index].max()) or 1.0
            axes[0, index].imshow(images[index])
            axes[1, index].imshow(maps[index], vmin=0, vmax=peak)
            axes[2, index].imshow(images[index], alpha=0.5)
            axes[2, index].imshow(maps[index], cmap="inferno", alpha=0.6, vmin=0, vmax=peak)
            if titles is not None:
                axes[0, index].set_title(titles[index], size="small")
            for ax in axes[:, index]:
                bare(ax)
        for ax, label in zip(axes[:, 0], ("image", "saliency", "overlay"), strict=True):
            ax.set_ylabel(label)
    return fig
