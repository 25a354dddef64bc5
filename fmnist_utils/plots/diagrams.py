"""Diagrams of how a network computes: a convolution step, pooling, receptive fields, backprop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from fmnist_utils.plots.base import course_figure, show_map, show_numbers, write_values


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
    with course_figure((9, 3.2)) as fig:
        axes = fig.subplots(1, 3)
        show_map(axes[0], image, "image")
        outline = Rectangle((col - 0.5, row - 0.5), kw, kh, fill=False, ec="tab:orange", lw=2)
        axes[0].add_patch(outline)
        show_numbers(axes[1], window, "window (orange box)")
        show_numbers(axes[2], kernel, "kernel", fmt="g")
        total = float((window * kernel).sum())
        fig.suptitle(f"output[{row}, {col}] = sum(window × kernel) = {total:.3f}")
    return fig


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

    def draw(ax: Axes, values: np.ndarray, block: int, title: str) -> None:
        rgb = np.ones((*values.shape, 3))
        for i, j in np.ndindex(values.shape):
            if i // block < values.shape[0] // block and j // block < values.shape[1] // block:
                rgb[i, j] = tints[(i // block % 2) * 2 + (j // block % 2)]
        ax.imshow(rgb)
        write_values(ax, values, ".3g", size="medium")
        ax.set_xticks(np.arange(-0.5, values.shape[1], block))
        ax.set_yticks(np.arange(-0.5, values.shape[0], block))
        ax.grid(color="black", linewidth=1.5, alpha=1.0)
        ax.tick_params(length=0, labelbottom=False, labelleft=False)
        ax.set_title(f"{title}\n{values.shape}")

    widths = [x.shape[1]] + [np.asarray(o).shape[1] for o in outputs.values()]
    figsize = (0.55 * sum(widths) + 0.6 * len(widths), 0.55 * x.shape[0] + 0.8)
    with course_figure(figsize) as fig:
        axes = fig.subplots(1, len(widths), squeeze=False, gridspec_kw={"width_ratios": widths})
        draw(axes[0, 0], x, size, "input")
        for ax, (title, out) in zip(axes[0, 1:], outputs.items(), strict=True):
            draw(ax, np.asarray(out, dtype=np.float64), 1, title)
    return fig


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

    names = ["input", *(name for name, _, _ in layers)]
    figsize = (max(6.0, 0.32 * n_input + 3.0), 1.1 * (len(layers) + 1) + 0.4)
    with course_figure(figsize) as fig:
        ax = fig.subplots()
        for level, (xs, on) in enumerate(zip(centres, active, strict=True)):
            if level > 0:
                _, kernel, stride = layers[level - 1]
                for i in on:
                    for j in range(i * stride, i * stride + kernel):
                        below = (xs[i], centres[level - 1][j])
                        ax.plot(below, [level, level - 1], color="tab:orange", lw=1, zorder=1)
            lit = set(on.tolist())
            colors = ["tab:orange" if i in lit else "lightgray" for i in range(len(xs))]
            ax.scatter(xs, np.full(len(xs), level), s=120, c=colors, edgecolors="black", zorder=2)
            label = f"{names[level]}  ({len(xs)} units)"
            ax.text(-1.2, level, label, ha="right", va="center")
            seen = _receptive_width(layers[:level])
            ax.text(
                n_input + 0.2,
                level,
                f"each unit sees {seen} input pixel{'s' if seen > 1 else ''}",
                va="center",
                color="tab:orange" if level else "black",
            )
        ax.set_xlim(-1.2 - 0.16 * max(len(n) for n in names) - 3, n_input + 6)
        ax.set_ylim(-0.6, len(layers) + 0.6)
        ax.axis("off")
    return fig


def backprop_diagram(shapes: Mapping[str, Sequence[int]] | None = None) -> Figure:
    """Show backpropagation through one hidden layer: values forward, gradients back.

    The top row is the forward pass ``X -> A = X W1 + b1 -> H = relu(A) ->
    Z = H W2 + b2 -> L``; the red arrows below carry the gradient back, each
    labelled with the chain-rule step that computes it, and the gradients of
    the two weight matrices branch off them.

    Parameters
    ----------
    shapes : mapping of str to sequence of int, optional
        Shapes to write under the nodes, by name (``"X"``, ``"A"``, ``"H"``,
        ``"Z"``, ``"W1"``, ``"W2"``), e.g. those of a worked example.

    Returns
    -------
    matplotlib.figure.Figure
        The diagram; its texts are ``[t.get_text() for t in fig.axes[0].texts]``.
    """
    shapes = dict(shapes or {})
    nodes = {
        "X": (0.0, "$X$\nimages"),
        "A": (2.2, "$A = XW_1 + b_1$"),
        "H": (4.4, "$H = \\mathrm{relu}(A)$"),
        "Z": (6.6, "$Z = HW_2 + b_2$"),
        "L": (8.6, "loss $L$"),
    }
    forward_y, back_y = 2.0, 0.9
    box = {"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": "black"}
    red = "tab:red"
    with course_figure((10, 3.6)) as fig:
        ax = fig.subplots()
        for name, (x, label) in nodes.items():
            ax.text(x, forward_y, label, ha="center", va="center", bbox=box)
            if name in shapes:
                ax.text(x, forward_y - 0.42, str(tuple(shapes[name])), ha="center",
                        va="top", size="small", color="gray")  # fmt: skip
        for name, x in (("W1", 1.1), ("W2", 5.5)):
            label = f"${name[0]}_{name[1]}$" + (f" {tuple(shapes[name])}" if name in shapes else "")
            ax.text(x, 3.05, label, ha="center", va="center", bbox=box)
        xs = [x for x, _ in nodes.values()]
        for left, right in zip(xs, xs[1:], strict=False):
            ax.annotate("", (right - 0.75, forward_y), (left + 0.75, forward_y),
                        arrowprops={"arrowstyle": "->"})  # fmt: skip
        for x_param, x_into in ((1.1, 1.5), (5.5, 5.9)):
            ax.annotate("", (x_into, forward_y + 0.3), (x_param, 2.8),
                        arrowprops={"arrowstyle": "->"})  # fmt: skip
        steps = [
            (8.6, 6.6, "$G_Z = (P - Y)/n$"),
            (6.6, 4.4, "$G_H = G_Z W_2^\\top$"),
            (4.4, 2.2, "$G_A = G_H \\odot [A > 0]$"),
        ]
        for start, end, label in steps:
            ax.annotate("", (end + 0.3, back_y), (start - 0.3, back_y),
                        arrowprops={"arrowstyle": "->", "color": red})  # fmt: skip
            ax.text((start + end) / 2, back_y + 0.15, label, ha="center", va="bottom",
                    color=red, size="small")  # fmt: skip
        weight_gradients = (
            (6.6, "$\\nabla_{W_2} L = H^\\top G_Z$"),
            (2.2, "$\\nabla_{W_1} L = X^\\top G_A$"),
        )
        for x, label in weight_gradients:
            ax.annotate(
                label,
                (x, back_y - 0.08),
                (x, back_y - 0.75),
                ha="center",
                va="center",
                color=red,
                size="small",
                arrowprops={"arrowstyle": "<-", "color": red},
            )
        ax.text(-0.6, forward_y + 0.55, "forward: values", ha="left", size="small")
        ax.text(
            -0.6, back_y, "backward: gradients", ha="left", va="center", size="small", color=red
        )
        ax.set_xlim(-0.8, 9.4)
        ax.set_ylim(-0.1, 3.5)
        ax.axis("off")
    return fig
