"""The one figure helper, the course style, and the drawing steps every kind of figure shares.

Every figure of the course is made by :func:`course_figure`: a figure in
matplotlib's constrained layout, drawn under the style sheet
``course.mplstyle`` (shipped next to this module), closed in pyplot so a
notebook shows it once, as the value of the cell. The style is applied with
``plt.style.context`` around the drawing only: a learner's own rcParams are
never changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

STYLE = Path(__file__).with_name("course.mplstyle")
"""The course's style sheet: fonts, sizes, colour maps, constrained layout."""

SIGNED_CMAP = "RdBu_r"
"""Colour map of signed values (weights, filter outputs): red positive, blue negative."""


@contextmanager
def course_figure(figsize: tuple[float, float]) -> Iterator[Figure]:
    """Make a figure in the course style; draw on it inside the ``with`` block.

    Parameters
    ----------
    figsize : tuple of float
        Width and height in inches.

    Yields
    ------
    matplotlib.figure.Figure
        A figure in constrained layout. When the block ends, it is closed in
        pyplot (so the inline backend does not show it a second time at the
        end of the cell, and nothing piles up in pyplot's list of figures);
        it is still drawn as the cell's value, or saved with ``savefig``.

    Examples
    --------
    >>> with course_figure((4, 3)) as fig:
    ...     ax = fig.subplots()
    ...     _ = ax.plot([0, 1], [1, 0])
    """
    with plt.style.context(STYLE):
        fig = plt.figure(figsize=figsize, layout="constrained")
        try:
            yield fig
            for ax in fig.axes:
                # Tick labels are made lazily, at the first draw: make them now,
                # under the style, so later ones copy the style's sizes.
                for axis in (ax.xaxis, ax.yaxis):
                    axis.get_major_ticks()
                    axis.get_minor_ticks()
        finally:
            plt.close(fig)


def label_names(names: Sequence[str] | None) -> Sequence[str]:
    """Return ``names``, or Fashion-MNIST's ten class names when it is None."""
    if names is not None:
        return names
    from fmnist_utils.data import CLASS_NAMES

    return CLASS_NAMES


def grid_shape(n: int, ncols: int) -> tuple[int, int]:
    """Rows and columns of a grid of ``n`` panels, at most ``ncols`` per row."""
    ncols = max(1, min(ncols, n))
    return int(np.ceil(n / ncols)), ncols


def bare(ax: Axes) -> None:
    """Remove an image panel's ticks, keeping its frame and axis labels."""
    ax.set_xticks([])
    ax.set_yticks([])


def show_map(ax: Axes, values: np.ndarray, title: str | None = None) -> AxesImage:
    """Draw a 2-D map: red/blue around a white 0 if signed, dark ink on white if not.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    values : numpy.ndarray
        The 2-D map; each is drawn on its own scale.
    title : str, optional
        The panel's title.

    Returns
    -------
    matplotlib.image.AxesImage
        The drawn image.
    """
    values = np.asarray(values, dtype=np.float64)
    peak = float(np.abs(values).max()) or 1.0
    if values.min() < 0:
        shown = ax.imshow(values, cmap=SIGNED_CMAP, vmin=-peak, vmax=peak)
    else:
        shown = ax.imshow(values, vmin=0, vmax=peak)
    bare(ax)
    if title is not None:
        ax.set_title(title)
    return shown


def write_values(
    ax: Axes,
    values: np.ndarray,
    fmt: str,
    *,
    dark_above: float | None = None,
    size: str = "small",
) -> None:
    """Write every value of a matrix in its cell, white on dark cells, black on light.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel holding the matrix, drawn with ``imshow``.
    values : numpy.ndarray
        The 2-D matrix.
    fmt : str
        A format spec, such as ``".2f"`` or ``"d"``.
    dark_above : float, optional
        Cells whose absolute value is above this are dark; ``None`` for none.
    size : str, optional
        A relative font size of the style (``"x-small"``, ``"small"``, ...).
    """
    for (row, col), value in np.ndenumerate(values):
        dark = dark_above is not None and abs(value) > dark_above
        ax.text(
            col,
            row,
            format(value, fmt),
            ha="center",
            va="center",
            size=size,
            color="white" if dark else "black",
        )


def show_numbers(ax: Axes, values: np.ndarray, title: str | None = None, fmt: str = ".2f") -> None:
    """Draw a small matrix like :func:`show_map`, each cell with its value written in it."""
    values = np.asarray(values, dtype=np.float64)
    show_map(ax, values, title)
    peak = float(np.abs(values).max()) or 1.0
    write_values(ax, values, fmt, dark_above=0.6 * peak)
