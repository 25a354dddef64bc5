"""The search for lesson 8's recipe: each candidate trained on the full data, recorded.

Run ``python -m benchmarks.run --only recipes [--recipes NAME,...] [--seeds N]``: each
candidate below is trained once per seed by :func:`fmnist_utils.models.train_and_evaluate`
(exactly as the lesson's recipe is), in a fresh process, and its test accuracy,
training time and peak memory become the record ``recipes.NAME`` of
``benchmarks/results.json``. The README lists every candidate tried, with what it gave.

The budget is issue 14's: at least 93.5 % test accuracy in at most 10 minutes of
training on 2 CPU cores. An epoch of the improved CNN costs 0.8-2.4 ms an image on the
2-core machines this course was measured on (the same code, different hosts), so the
candidates spend that budget differently: more epochs, larger batches (cheaper per
image on a CPU), label smoothing, or a network whose extra width sits at 7x7 pixels,
where a convolution costs a sixteenth of what it costs at 28x28.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    import keras

    from fmnist_utils.models import Recipe

__all__ = ["CANDIDATES", "Candidate", "recipe"]


@dataclass(frozen=True)
class Candidate:
    """One recipe tried: lesson 8's recipe with some settings changed.

    Attributes
    ----------
    what : str
        What differs from lesson 8's recipe, for people.
    epochs, batch_size : int
        The training's length and batch.
    label_smoothing : float
        As :class:`fmnist_utils.models.Recipe`'s.
    blocks : tuple of tuple of int, optional
        Another network: the filters of each convolution, block by block (each block
        ends with 2x2 max pooling and dropout 0.1), then lesson 8's dense head. ``None``
        keeps lesson 8's network (:func:`fmnist_utils.models.improved_cnn`).
    """

    what: str
    epochs: int
    batch_size: int = 128
    label_smoothing: float = 0.0
    blocks: tuple[tuple[int, ...], ...] | None = None


CANDIDATES: dict[str, Candidate] = {
    "lesson8_e5": Candidate("lesson 8's network and schedule, 5 epochs", 5),
    "lesson8_e12": Candidate("lesson 8's recipe: 12 epochs", 12),
    "lesson8_e12_smooth": Candidate("12 epochs, label smoothing 0.1", 12, label_smoothing=0.1),
    "lesson8_b256_e12": Candidate("batch 256, 12 epochs", 12, batch_size=256),
    "wide7_b256_e12": Candidate(
        "network 32 | 64-64 | 128 (3 blocks), batch 256, 12 epochs",
        12,
        batch_size=256,
        blocks=((32,), (64, 64), (128,)),
    ),
}
"""The candidates, by record name (``recipes.NAME``)."""


def _network(blocks: tuple[tuple[int, ...], ...]) -> keras.Model:
    """Lesson 8's network with other convolution blocks (same augmentation and head)."""
    import keras
    from keras import layers

    from fmnist_utils.models import augmentation

    model = keras.Sequential(name="candidate")
    model.add(keras.Input((28, 28, 1), name="image"))
    model.add(augmentation())
    for widths in blocks:
        for width in widths:
            model.add(layers.Conv2D(width, 3, padding="same", use_bias=False))
            model.add(layers.BatchNormalization())
            model.add(layers.Activation("relu"))
        model.add(layers.MaxPooling2D(2))
        model.add(layers.Dropout(0.1))
    model.add(layers.Flatten())
    model.add(layers.Dense(128, use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.Activation("relu"))
    model.add(layers.Dropout(0.3))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def recipe(name: str) -> Recipe:
    """Return candidate ``name`` as a :class:`fmnist_utils.models.Recipe`.

    Parameters
    ----------
    name : str
        A key of :data:`CANDIDATES`.

    Returns
    -------
    fmnist_utils.models.Recipe
        Lesson 8's recipe with the candidate's settings.
    """
    from fmnist_utils.models import RECIPES

    candidate = CANDIDATES[name]
    base = RECIPES["lesson7_improved_cnn"]
    blocks = candidate.blocks
    return replace(
        base,
        build=base.build if blocks is None else (lambda: _network(blocks)),
        epochs=candidate.epochs,
        batch_size=candidate.batch_size,
        label_smoothing=candidate.label_smoothing,
        description=candidate.what,
    )
