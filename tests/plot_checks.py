"""What the figure tests share: a test image, class names, text readers, no figure left open."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

NAMES = ["zero", "one", "two"]
"""Class names of the three-class test data."""


@pytest.fixture(autouse=True)
def no_figures_left_open() -> Iterator[None]:
    """Fail a test whose figure stays open in pyplot (Jupyter would show it twice)."""
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "a plot helper left a figure open in pyplot"


def bright_square() -> np.ndarray:
    """A 12x12 image: a bright 6x6 rectangle on black."""
    img = np.zeros((12, 12), dtype=np.float32)
    img[3:9, 4:10] = 1.0
    return img


def texts(fig: Figure) -> list[str]:
    """The texts written inside the figure's panels (not titles or tick labels)."""
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def tick_labels(ax: Axes) -> list[str]:
    """The x tick labels of a panel."""
    return [t.get_text() for t in ax.get_xticklabels()]
