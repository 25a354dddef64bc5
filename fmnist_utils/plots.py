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
    return fig


# --- Lesson 1: pixels and labels ---------------------------------------------


# --- Lesson 2: baselines ------------------------------------------------------


# --- Lesson 3: convolution filters ---------------------------------------------


# --- Lesson 4: pooling, padding, stride and shapes ----------------------------


# --- Lesson 5: build and train the CNN -----------------------------------------


# --- Lesson 6: evaluate and look inside ------------------------------------------


# --- Lesson 7: improve the CNN --------------------------------------------------

# Imported here, not at the top, so each lesson's section merges on its own.
from collections.abc import Mapping  # noqa: E402
from typing import Any  # noqa: E402


def _detached_figure(figsize: tuple[float, float]) -> Figure:
    """Make a figure that pyplot lets go of, so a notebook shows it once, as the cell's value."""
    fig = plt.figure(figsize=figsize)
    plt.close(fig)
    return fig


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
    fig = _detached_figure((10, 3.6))
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
    fig = _detached_figure((6.5, 4))
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
    fig = _detached_figure((ncols * size + 2.4, len(rows) * size))
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
    fig = _detached_figure((6.5, 3.2))
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
    fig = _detached_figure((8, 0.55 * len(rows) + 1.4))
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
    fig = _detached_figure((7.5 if image is not None else 5, 3))
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
    fig = _detached_figure((size * len(steps), size * 1.25))
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
    fig = _detached_figure((size * len(examples), size * 1.35))
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
