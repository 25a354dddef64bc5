"""Training curves, epoch by epoch or step by step, descent on one weight, the learning rate.

Every training-curve figure reads its history with :func:`history_logs` and
draws it with :func:`draw_run`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fmnist_utils.plots.base import course_figure


def history_logs(history: Any) -> dict[str, np.ndarray]:
    """Read what ``model.fit`` returned, or its ``.history`` dict, as arrays per metric.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        Lists of values per epoch, by metric; validation ones prefixed ``val_``.

    Returns
    -------
    dict of str to numpy.ndarray
        One float array per metric.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(
            f"expected a keras History or a dict of lists, got {type(history).__name__}"
        )
    if not logs:
        raise ValueError("history must be what model.fit returns, or its non-empty .history dict")
    return {str(key): np.asarray(values, dtype=float) for key, values in logs.items()}


def draw_run(
    ax: Axes,
    logs: Mapping[str, np.ndarray],
    metric: str,
    *,
    run: str | None = None,
    colour: str | None = None,
) -> None:
    """Draw one run's training and validation curves of one metric.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    logs : mapping of str to numpy.ndarray
        What :func:`history_logs` returns.
    metric : str
        The metric; its validation curve is ``val_`` + ``metric``, if logged.
    run : str, optional
        The run's name, when several runs share the panel: each run then gets
        one colour, training dashed and validation solid, labelled with the name.
    colour : str, optional
        The run's colour (with ``run``).
    """
    for key, kind, own_colour, marker, dashes in (
        (metric, "training", "tab:blue", "o", "--"),
        (f"val_{metric}", "validation", "tab:orange", "s", "-"),
    ):
        if key not in logs:
            continue
        epochs = np.arange(1, len(logs[key]) + 1)
        if run is None:
            ax.plot(epochs, logs[key], "-", marker=marker, ms=3, color=own_colour, label=kind)
        else:
            ax.plot(epochs, logs[key], dashes, color=colour, label=f"{run}: {kind}")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(True)


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
    logs = history_logs(history)
    shown = [m for m in metrics if m in logs or f"val_{m}" in logs]
    if not shown:
        raise ValueError(f"none of {list(metrics)} is in the history; it has {sorted(logs)}")
    with course_figure((4.8 * len(shown), 3.4)) as fig:
        axes = fig.subplots(1, len(shown), squeeze=False)[0]
        for ax, metric in zip(axes, shown, strict=True):
            draw_run(ax, logs, metric)
            if f"val_{metric}" in logs:
                values = logs[f"val_{metric}"]
                best = int(np.argmin(values) if "loss" in metric else np.argmax(values))
                ax.plot(best + 1, values[best], "o", ms=9, mfc="none", mec="black", label="best")
            ax.set_title(metric)
            ax.legend()
    return fig


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
    logs = history_logs(history)
    for key in ("loss", "val_loss"):
        if key not in logs:
            raise ValueError(
                f"the history has no {key!r} (it has {sorted(logs)}); "
                "train with validation_data=... to get validation curves"
            )
    epochs = np.arange(1, len(logs["loss"]) + 1)
    best = int(np.argmin(logs["val_loss"])) + 1
    with course_figure((10, 3.6)) as fig:
        axes = fig.subplots(1, 2)
        for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
            if metric not in logs or f"val_{metric}" not in logs:
                ax.axis("off")
                continue
            draw_run(ax, logs, metric)
            train, val = logs[metric], logs[f"val_{metric}"]
            ax.fill_between(epochs, train, val, color="tab:red", alpha=0.12, label="gap")
            ax.axvline(best, color="gray", linestyle=":", label=f"lowest val. loss (epoch {best})")
            ax.set_ylabel(metric)
        axes[0].legend()
        if title:
            fig.suptitle(title)
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
    runs = {name: history_logs(history) for name, history in histories.items()}
    with course_figure((6.5, 4)) as fig:
        ax = fig.subplots()
        for index, (name, logs) in enumerate(runs.items()):
            draw_run(ax, logs, metric, run=name, colour=f"C{index}")
        ax.set_ylabel(metric)
        ax.legend()
        if title:
            ax.set_title(title)
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
    with course_figure((6.5, 3.2)) as fig:
        ax = fig.subplots()
        ax.plot(x, rates, color="tab:purple")
        ax.set_xlabel("epoch" if steps_per_epoch else "step")
        ax.set_ylabel("learning rate")
        ax.set_ylim(bottom=0)
        ax.grid(True)
        peak = int(np.argmax(rates))
        ax.annotate(
            f"peak {rates[peak]:.2g}",
            (x[peak], rates[peak]),
            textcoords="offset points",
            xytext=(8, -12),
            size="small",
        )
        if title:
            ax.set_title(title)
    return fig


def step_losses(
    runs: Mapping[str, Sequence[float]],
    *,
    start: float | None = None,
    title: str | None = None,
) -> Figure:
    """Plot the loss after every step of gradient descent, one line per run.

    A run whose loss grows past the top of the panel, or stops being a finite
    number, is drawn up to that point and marked "diverged".

    Parameters
    ----------
    runs : mapping of str to sequence of float
        Run name (for example ``"learning rate 0.1"``) to the loss at each
        step, in order.
    start : float, optional
        The loss before training (drawn as a grey dotted line); it also sets
        the top of the panel, at twice its value.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; run ``i``'s line is ``fig.axes[0].lines[i]``.
    """
    if not runs:
        raise ValueError("runs is empty: give at least one run's losses")
    curves = {str(name): np.asarray(values, dtype=float).ravel() for name, values in runs.items()}
    for name, values in curves.items():
        if values.size == 0:
            raise ValueError(f"run {name!r} has no losses")
    finite = np.concatenate([v[np.isfinite(v)] for v in curves.values()])
    first = start if start is not None else float(finite[0]) if finite.size else 1.0
    top = 2.0 * first if first > 0 else 1.0
    with course_figure((6.5, 3.4)) as fig:
        ax = fig.subplots()
        for index, (name, values) in enumerate(curves.items()):
            steps = np.arange(1, len(values) + 1)
            bad = ~np.isfinite(values) | (values > top)
            end = int(np.argmax(bad)) if bad.any() else len(values)
            shown = np.append(values[:end], top) if bad.any() else values
            ax.plot(steps[: len(shown)], np.minimum(shown, top), color=f"C{index}", label=name)
            if bad.any():
                ax.annotate(
                    "diverged",
                    (steps[min(end, len(values) - 1)], top),
                    textcoords="offset points",
                    xytext=(4, -12),
                    color=f"C{index}",
                    size="small",
                )
        if start is not None:
            ax.axhline(start, color="gray", linestyle=":", label="before training")
        ax.set_ylim(0, top * 1.02)
        ax.set_xlabel("step (one mini-batch each)")
        ax.set_ylabel("loss")
        ax.grid(True)
        ax.legend(loc="upper right")
        if title:
            ax.set_title(title)
    return fig


def descent_paths(
    loss: Callable[[float], float],
    paths: Mapping[str, Sequence[float]] | None = None,
    *,
    span: tuple[float, float],
    xlabel: str = "weight",
    title: str | None = None,
) -> Figure:
    """Draw gradient descent on one weight: the loss curve and the steps taken on it.

    One panel per run, side by side, each with the same curve (just the curve
    when no runs are given). A step is drawn as an arrow from one position to
    the next; positions outside ``span`` are drawn at its edge and counted.

    Parameters
    ----------
    loss : callable
        The loss as a function of the one weight.
    paths : mapping of str to sequence of float, optional
        Run name (for example ``"learning rate 100"``) to the weight's positions,
        the start first.
    span : tuple of float
        The range of weights to draw the curve over, ``(low, high)``.
    xlabel : str, optional
        The weight's name, for the x-axis.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; panel ``i``'s curve is ``fig.axes[i].lines[0]``.
    """
    low, high = (float(v) for v in span)
    if not high > low:
        raise ValueError(f"span must be (low, high) with low < high, got {span}")
    grid = np.linspace(low, high, 200)
    curve = np.array([float(loss(float(s))) for s in grid])
    runs = {
        str(name): np.asarray(values, dtype=float).ravel() for name, values in (paths or {}).items()
    }
    with course_figure((max(3.4 * len(runs), 5.0), 3.2)) as fig:
        axes = np.atleast_1d(fig.subplots(1, max(len(runs), 1), sharey=True))
        for ax in axes:
            ax.plot(grid, curve, color="gray")
            ax.set_xlabel(xlabel)
            ax.grid(True)
        for index, (ax, (name, positions)) in enumerate(zip(axes, runs.items(), strict=False)):
            shown = np.clip(np.nan_to_num(positions, nan=high, posinf=high, neginf=low), low, high)
            where, back = np.unique(shown, return_inverse=True)  # clipped ones share an edge
            heights = np.array([float(loss(float(s))) for s in where])[back.ravel()]
            colour = f"C{index}"
            ax.plot(shown, heights, "o", color=colour, markersize=4, label=name)
            for step in range(len(shown) - 1):
                ax.annotate(
                    "",
                    (shown[step + 1], heights[step + 1]),
                    (shown[step], heights[step]),
                    arrowprops={"arrowstyle": "->", "color": colour},
                )
            outside = np.flatnonzero(
                (positions < low) | (positions > high) | ~np.isfinite(positions)
            )
            if outside.size:
                ax.annotate(
                    f"{outside.size} of {positions.size} positions off the chart",
                    (0.03, 0.04),
                    xycoords="axes fraction",
                    color=colour,
                    size="small",
                )
            ax.set_title(name, size="medium")
        axes[0].set_ylabel("loss")
        if title:
            fig.suptitle(title)
    return fig
