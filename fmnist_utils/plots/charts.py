"""Bar and line charts of numbers: class counts, pixel histograms, scores, predictions, sizes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from fmnist_utils.plots.base import bare, course_figure, grid_shape, label_names


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
    names = list(label_names(class_names))[:n]
    with course_figure((8, 3.2)) as fig:
        ax = fig.subplots()
        width = 0.8 / len(arrays)
        positions = np.arange(n)
        for offset, (split, values) in enumerate(arrays.items()):
            heights = values / values.sum() if normalize else values
            shift = (offset - (len(arrays) - 1) / 2) * width
            ax.bar(positions + shift, heights, width, label=split)
        ax.set_xticks(positions, names, rotation=30, ha="right")
        ax.set_ylabel("share of examples" if normalize else "examples")
        if len(arrays) > 1 or "" not in arrays:
            ax.margins(y=0.18)  # headroom, so the legend covers no bar
            ax.legend(loc="upper center", ncols=len(arrays))
        ax.grid(axis="y")
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
    names = label_names(class_names)
    top = 255.0 if x.dtype == np.uint8 else 1.0
    edges = np.linspace(0, top, bins + 1)
    labels = np.unique(y)
    nrows, ncols = grid_shape(len(labels), 5)
    with course_figure((2.2 * ncols, 1.9 * nrows)) as fig:
        axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
        for ax in axes.flat[len(labels) :]:
            ax.axis("off")
        for ax, label in zip(axes.flat, labels, strict=False):
            pixels = x[y == label].ravel()
            if x.dtype == np.uint8:  # count each of the 256 values, then bin 256 counts
                counts = np.bincount(pixels, minlength=256)
                hist, _ = np.histogram(np.arange(256), bins=edges, weights=counts)
                zero_share = counts[0] / pixels.size
            else:
                hist, _ = np.histogram(pixels, bins=edges)
                zero_share = np.mean(pixels == 0)
            ax.stairs(hist / pixels.size, edges, fill=True, alpha=0.8)
            ax.set_yscale("log")
            zeros = f"{zero_share:.0%} of pixels are 0"
            ax.set_title(f"{names[int(label)]}\n{zeros}", size="small")
        for ax in axes[-1]:
            ax.set_xlabel("intensity", size="small")
        for ax in axes[:, 0]:
            ax.set_ylabel("share of pixels", size="small")
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
    with course_figure((7, 0.5 * len(names) + 1.2)) as fig:
        ax = fig.subplots()
        positions = np.arange(len(names))[::-1]
        ax.barh(positions, values, color="tab:blue")
        for position, value in zip(positions, values, strict=True):
            ax.text(value + 0.01, position, f"{value:.1%}", va="center")
        if chance is not None:
            ax.axvline(chance, color="gray", linestyle="--", label=f"chance ({chance:.0%})")
            ax.legend(loc="lower right")
        ax.set_yticks(positions, names)
        ax.set_xlim(0, 1.08)
        ax.set_xlabel("accuracy")
        ax.set_title(title)
    return fig


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
    for metric, v in arrays.items():
        if len(v) != n:
            raise ValueError(f"{metric} has {len(v)} values, expected {n}")
    names = list(label_names(class_names))[:n]
    height = 0.8 / len(arrays)
    with course_figure((7, 0.45 * n + 1)) as fig:
        ax = fig.subplots()
        y = np.arange(n)[::-1]
        for offset, (metric, v) in enumerate(arrays.items()):
            ax.barh(y - offset * height + 0.4 - height / 2, v, height, label=metric)
        ax.set_yticks(y, names)
        low = min(float(min(v.min() for v in arrays.values())), 0.9)
        ax.set_xlim(max(0.0, low - 0.05), 1.0)
        ax.grid(axis="x")
        ax.legend(loc="lower left")
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
    with course_figure((8, 0.55 * len(rows) + 1.4)) as fig:
        ax = fig.subplots()
        y = np.arange(len(rows))[::-1]
        if all("train_accuracy" in row for row in rows):
            train = np.array([float(row["train_accuracy"]) for row in rows])
            ax.barh(
                y + 0.2, 100 * train, height=0.4, color="tab:blue", alpha=0.45, label="training"
            )
            ax.barh(y - 0.2, 100 * val, height=0.4, color="tab:orange", label="validation")
            ax.legend(loc="lower right")
        else:
            ax.barh(y, 100 * val, height=0.6, color="tab:orange")
        for yi, row, v in zip(y, rows, val, strict=True):
            note = f"{100 * v:.1f}%"
            if "seconds" in row:
                note += f"  ({float(row['seconds']):.0f} s)"
            offset = 0.2 if "train_accuracy" in row else 0
            ax.text(100 * v + 0.2, yi - offset, note, va="center", size="small")
        ax.set_yticks(y, names)
        low = 100 * min(val.min(), *(float(r.get("train_accuracy", 1)) for r in rows))
        ax.set_xlim(max(0.0, np.floor(low / 5) * 5 - 5), 100)
        ax.set_xlabel("accuracy (%)")
        ax.grid(axis="x")
        if title:
            ax.set_title(title)
    return fig


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
    names = label_names(class_names)
    n = len(images)
    nrows, ncols = grid_shape(n, ncols)
    classes = range(probs.shape[1])
    with course_figure((4.4 * ncols, 2.0 * nrows)) as fig:
        axes = fig.subplots(
            nrows, 2 * ncols, squeeze=False, gridspec_kw={"width_ratios": [1, 1.3] * ncols}
        )
        for ax in axes.flat:
            ax.axis("off")
        for index in range(n):
            row, col = divmod(index, ncols)
            ax_img, ax_bar = axes[row, 2 * col], axes[row, 2 * col + 1]
            predicted = int(np.argmax(probs[index]))
            right = predicted == y_true[index]
            colour = "tab:blue" if right else "tab:red"
            ax_img.imshow(images[index])
            title = f"{names[predicted]} {probs[index, predicted]:.0%}"
            title += f"\n(true: {names[y_true[index]]})"
            ax_img.set_title(title, size="small", color=colour)
            ax_bar.axis("on")
            bars = ax_bar.bar(classes, probs[index], color="lightgray")
            bars[predicted].set_color(colour)
            if not right:
                bars[y_true[index]].set_color("tab:green")
            ax_bar.set_ylim(0, 1)
            ax_bar.set_xticks(classes, [str(c) for c in classes])
            ax_bar.tick_params(axis="x", labelsize="x-small")
            ax_bar.set_yticks([])
    return fig


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
    names = list(label_names(class_names))[: len(probs)]
    top = np.argsort(probs)[::-1][:k]
    with course_figure((7.5 if image is not None else 5, 3)) as fig:
        if image is not None:
            ax_img, ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
            ax_img.imshow(np.asarray(image).reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            bare(ax_img)
            ax_img.set_title("what the model sees")
        else:
            ax = fig.subplots()
        colours = ["tab:orange" if i in top else "lightgray" for i in range(len(probs))]
        y = np.arange(len(probs))[::-1]
        ax.barh(y, 100 * probs, color=colours)
        ax.set_yticks(y, names)
        for rank, index in enumerate(top, start=1):
            note = f"#{rank} {100 * probs[index]:.1f}%"
            ax.text(100 * probs[index] + 1, y[index], note, va="center", size="small")
        ax.set_xlim(0, 118)
        ax.set_xlabel("probability (%)")
        if title:
            fig.suptitle(title)
    return fig


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
    with course_figure((10, 0.45 * len(names) + 1.2)) as fig:
        left, right = fig.subplots(1, 2, sharey=True)
        left.barh(y, sizes, color="tab:blue")
        right.barh(y, [max(p, 0) for p in params], color="tab:green")
        for ax, values, title in (
            (left, sizes, "numbers out, per image"),
            (right, params, "weights"),
        ):
            ax.set_xscale("symlog", linthresh=1)
            ax.set_title(title)
            for yi, value in zip(y, values, strict=True):
                ax.text(max(value, 1) * 1.1, yi, f"{value:,}", va="center", size="small")
            ax.set_xlim(0, max(max(values), 1) * 30)
        left.set_yticks(y, labels)
    return fig


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
    for name, values in distances.items():
        if len(values) != len(shifts):
            raise ValueError(f"{name}: {len(values)} distances for {len(shifts)} shifts")
    with course_figure((6, 3.6)) as fig:
        ax = fig.subplots()
        for name, values in distances.items():
            ax.plot(shifts, values, marker="o", label=name)
        ax.set_xticks(list(shifts))
        ax.set_xlabel("shift to the right (pixels)")
        ax.set_ylabel("relative change\n‖f(x) − f(shifted x)‖ / ‖f(x)‖")
        ax.set_ylim(bottom=0)
        ax.grid()
        ax.legend()
    return fig
