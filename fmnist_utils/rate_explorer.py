"""Lesson 3's learning-rate explorer: retrain a few steps at the rate a slider picks.

Re-exported by :mod:`fmnist_utils.widgets` (lessons call
``widgets.learning_rate_explorer``). Nothing is displayed or trained at import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np

__all__ = ["LearningRateExplorer", "learning_rate_explorer"]


def _figure_png(fig: Any) -> bytes:
    """Render a matplotlib figure with Agg and encode it as PNG (the widgets' encoder)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from fmnist_utils.widgets import png_bytes  # the widgets' one PNG encoder

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return png_bytes(np.asarray(canvas.buffer_rgba())[..., :3])


class LearningRateExplorer(widgets.VBox):
    """Retrain softmax regression for a few steps at the learning rate a slider picks.

    Every run starts from zero weights and sees the same mini-batches, so the
    learning rate is the only thing that changes. The parts are attributes:
    ``rate_slider`` ("Learning rate", a log-scale slider), ``image`` (the loss
    curve as PNG bytes), ``status`` (``HTML``: the loss at start and end, and
    a verdict); ``losses`` holds the last run's loss at every step.

    Parameters
    ----------
    x : numpy.ndarray
        Flattened images, shape ``(n, d)``, float.
    y : numpy.ndarray
        Integer labels, shape ``(n,)``.
    loss : callable
        ``loss(logits, labels)`` returning the mean loss, a float.
    gradients : callable
        ``gradients(weights, bias, x, y)`` returning ``(d_weights, d_bias)``.
    num_classes : int, optional
        Number of classes.
    steps, batch_size : int, optional
        Steps per run, and images per step.
    start : float, optional
        The learning rate shown first.
    seed : int, optional
        Seed of the mini-batches' order.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        loss: Callable[[np.ndarray, np.ndarray], float],
        gradients: Callable[..., tuple[np.ndarray, np.ndarray]],
        num_classes: int = 10,
        steps: int = 60,
        batch_size: int = 64,
        start: float = 0.1,
        seed: int = 0,
    ) -> None:
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y)
        if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
            raise ValueError(
                f"x must be flat images (n, d) with one label each, got x {x.shape}, y {y.shape}"
            )
        if steps < 1 or batch_size < 1:
            raise ValueError(f"steps and batch_size must be positive, got {steps}, {batch_size}")
        rng = np.random.default_rng(seed)
        self._batches = [rng.choice(len(x), size=min(batch_size, len(x)), replace=False)
                         for _ in range(steps)]  # fmt: skip
        self._x, self._y, self._classes = x, y, num_classes
        self._loss, self._gradients = loss, gradients
        self.losses: list[float] = []
        self.rate_slider = widgets.FloatLogSlider(
            value=start, base=10, min=-4, max=1, step=0.25, description="Learning rate",
            style={"description_width": "initial"},
            readout_format=".4g", continuous_update=False,
        )  # fmt: skip
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()
        self.rate_slider.observe(lambda change: self.update(), names="value")
        super().__init__([self.rate_slider, self.image, self.status])
        self.update()

    def run(self, rate: float) -> list[float]:
        """Train from zero weights at ``rate``; the loss before each step, until it overflows."""
        weights = np.zeros((self._x.shape[1], self._classes), dtype=np.float32)
        bias = np.zeros(self._classes, dtype=np.float32)
        losses = []
        with np.errstate(all="ignore"):
            for batch in self._batches:
                xb, yb = self._x[batch], self._y[batch]
                losses.append(float(self._loss(xb @ weights + bias, yb)))
                if not np.isfinite(losses[-1]):
                    break
                d_weights, d_bias = self._gradients(weights, bias, xb, yb)
                weights = weights - rate * np.asarray(d_weights, dtype=np.float32)
                bias = bias - rate * np.asarray(d_bias, dtype=np.float32)
        return losses

    def update(self) -> None:
        """Retrain at the slider's rate and redraw the curve and the verdict."""
        from fmnist_utils import plots

        rate = float(self.rate_slider.value)
        try:
            self.losses = self.run(rate)
        except Exception as error:  # show the learner's error instead of failing silently
            self.status.value = f"<b style='color:#b00'>{type(error).__name__}: {error}</b>"
            return
        first, last = self.losses[0], self.losses[-1]
        fig = plots.step_losses({f"learning rate {rate:.4g}": self.losses}, start=first)
        self.image.value = _figure_png(fig)
        if not np.isfinite(last) or last > first or max(self.losses) > 2 * first:
            verdict = "diverging: each step overshoots the valley, and the loss grows"
        elif last > 0.9 * first:
            verdict = "too small: the loss barely moves in these steps"
        else:
            verdict = "learning: the loss falls step after step"
        self.status.value = (
            f"loss {first:.3f} at the start, {last:.3g} after {len(self.losses)} steps: "
            f"<b>{verdict}</b>"
        )


def learning_rate_explorer(x: np.ndarray, y: np.ndarray, **options: Any) -> LearningRateExplorer:
    """Open the learning-rate slider on flattened images; see :class:`LearningRateExplorer`.

    Parameters
    ----------
    x, y : numpy.ndarray
        Flattened images ``(n, d)`` and their labels ``(n,)``.
    **options
        ``loss`` and ``gradients`` (required), ``num_classes``, ``steps``,
        ``batch_size``, ``start`` and ``seed``, as for :class:`LearningRateExplorer`.

    Returns
    -------
    LearningRateExplorer
        The tool; display it as a cell's last expression.
    """
    return LearningRateExplorer(x, y, **options)
