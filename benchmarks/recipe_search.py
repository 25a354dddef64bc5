"""The search for lessons 7's and 9's recipes: each candidate trained on the full data, recorded.

Run ``python -m benchmarks.run --only recipes [--recipes NAME,...] [--seeds N]``: each
candidate below is trained once per seed by :func:`fmnist_utils.models.train_and_evaluate`
(exactly as the lesson's recipe is), in a fresh process, and its test accuracy,
training time and peak memory become the record ``recipes.NAME`` of
``benchmarks/results.json``. The measurements page lists every candidate tried, with what it gave.

Lesson 9's budget: at least 94.0 % test accuracy (the mean of 3 seeds) in at most 10
minutes of training on 2 CPU cores. An epoch of the improved CNN costs 0.8-2.4 ms an image on the
2-core machines this course was measured on (the same code, different hosts), so the
candidates spend that budget differently: more epochs, larger batches, label
smoothing, fewer filters where the images are largest, and averaging the trained
network's answers for each test image and its mirror image
(:func:`fmnist_utils.models.mirror_average`). Other widths and depths are
:func:`fmnist_utils.models.improved_cnn`'s ``filters`` and ``convs_per_block``.
The first candidates were measured when lesson 9's network had 24 and 48 filters
and was tested without the mirror: they say so, and keep those settings.

Lesson 7's candidates (``base="classic_cnn"``) aim at 92 % in at most 2 minutes of
training: its network stays the table a learner builds (two convolution + pooling
blocks, one hidden dense layer), and they try shorter schedules, larger batches with
a larger learning rate, a narrower second convolution (the costliest layer), more
dropout, label smoothing and a wider dense layer. The first were tried when lesson
7's recipe was Adam 1e-3 with cosine decay, batch 128, dropout 0.3 and 15 epochs;
"lesson 7's network" in their descriptions is that network. The lesson then took
the best of them (``classic_b256_e14_lr3e3_d04``) shortened to 13 epochs, to stay
near 2 minutes, and later widened its dense layer from 128 units to 256 at 12 epochs
(``classic_b256_e12_lr3e3_d04_dense256``). Every candidate keeps the width it was
measured with (``dense_units``, 128 unless it says otherwise);
``python -m benchmarks.run --only models --models classic_cnn`` measures the lesson's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from fmnist_utils.models import Recipe

__all__ = ["CANDIDATES", "Candidate", "recipe"]


@dataclass(frozen=True)
class Candidate:
    """One recipe tried: lesson 7's or lesson 9's recipe with some settings changed.

    Attributes
    ----------
    what : str
        What differs from the lesson's recipe, for people.
    epochs, batch_size : int
        The training's length and batch.
    label_smoothing : float
        As :class:`fmnist_utils.models.Recipe`'s.
    filters : tuple of int
        Filters of the two convolution blocks (:func:`fmnist_utils.models.improved_cnn`'s
        ``filters``), or of lesson 7's two convolutions.
    mirror_test : bool
        As :class:`fmnist_utils.models.Recipe`'s: tested through
        :func:`fmnist_utils.models.mirror_average`.
    flip : bool
        Train with the augmentation's horizontal flip (every footwear class of
        Fashion-MNIST faces one way: does the flip still help as a regulariser?).
    shift : float
        The augmentation's largest shift (:func:`fmnist_utils.improved.improved_cnn`'s
        ``shift``, a fraction of the image's side).
    base : str
        The recipe changed: ``"improved_cnn"`` (lesson 9) or ``"classic_cnn"`` (lesson
        7, whose network takes ``filters`` and ``dropout``; ``flip`` does not apply).
    learning_rate : float, optional
        Lesson 7's starting learning rate (``fmnist_utils.models.adam_cosine``).
    dropout : float
        Lesson 7's dropout rate before its last layer (the table said 0.3 when the
        search began).
    pool_dropout : float
        Lesson 7's dropout rate after each pooling layer (0: none).
    dense_units : int
        Units of lesson 7's hidden dense layer.
    """

    what: str
    epochs: int
    batch_size: int = 128
    label_smoothing: float = 0.0
    filters: tuple[int, int] = (24, 48)
    mirror_test: bool = False
    flip: bool = True
    shift: float = 0.07
    base: str = "improved_cnn"
    learning_rate: float = 1e-3
    dropout: float = 0.3
    pool_dropout: float = 0.0
    dense_units: int = 128


def _classic(what: str, epochs: int, **settings: Any) -> Candidate:
    settings.setdefault("filters", (32, 64))
    return Candidate(what, epochs, base="classic_cnn", **settings)


CANDIDATES: dict[str, Candidate] = {
    "improved_e5": Candidate("24 and 48 filters, 5 epochs", 5),
    "improved_e12": Candidate("24 and 48 filters, 12 epochs", 12),
    "improved_e12_smooth": Candidate(
        "24 and 48 filters, 12 epochs, label smoothing 0.1", 12, label_smoothing=0.1
    ),
    "improved_b256_e12": Candidate("24 and 48 filters, batch 256, 12 epochs", 12, batch_size=256),
    "f16_48_e10": Candidate("16 and 48 filters, 10 epochs", 10, filters=(16, 48)),
    "f16_32_e13": Candidate("16 and 32 filters, 13 epochs", 13, filters=(16, 32)),
    "f16_48_e11_mirror": Candidate(
        "16 and 48 filters, 11 epochs, tested with the mirror images",
        11,
        filters=(16, 48),
        mirror_test=True,
    ),
    "f16_48_e15_mirror": Candidate(
        "lesson 9's recipe with 15 epochs instead of 12 (what 10 minutes allows at the "
        "recorded 38 s an epoch), tested with the mirror images",
        15,
        filters=(16, 48),
        mirror_test=True,
    ),
    "f16_48_e15_smooth": Candidate(
        "lesson 9's network and schedule, 15 epochs, label smoothing 0.1, tested with the "
        "mirror images",
        15,
        filters=(16, 48),
        mirror_test=True,
        label_smoothing=0.1,
    ),
    "f16_48_e15_shift1": Candidate(
        "lesson 9's recipe (15 epochs, tested with the mirror images) with shifts of up to "
        "1 pixel instead of 2: the trained network scores 95.4 % on its own training "
        "images, so the training may be held back more than it needs",
        15,
        filters=(16, 48),
        mirror_test=True,
        shift=0.04,
    ),
    "f16_48_e12_noflip": Candidate(
        "lesson 9's network and 12 epochs, trained without the horizontal flip",
        12,
        filters=(16, 48),
        flip=False,
    ),
    "classic_e10": _classic("lesson 7's network, 10 epochs", 10),
    "classic_b256_e12_lr2e3": _classic(
        "lesson 7's network, batch 256, learning rate 2e-3, 12 epochs",
        12,
        batch_size=256,
        learning_rate=2e-3,
    ),
    "classic_f32_48_e12": _classic("32 and 48 filters, 12 epochs", 12, filters=(32, 48)),
    "classic_e10_smooth": _classic(
        "lesson 7's network, 10 epochs, label smoothing 0.1", 10, label_smoothing=0.1
    ),
    "classic_b256_e14_lr3e3_d04": _classic(
        "lesson 7's network, batch 256, learning rate 3e-3, dropout 0.4, 14 epochs",
        14,
        batch_size=256,
        learning_rate=3e-3,
        dropout=0.4,
    ),
    "classic_b256_e13_lr3e3_pd02": _classic(
        "lesson 7's network with dropout 0.2 after each pooling, batch 256, learning rate "
        "3e-3, 13 epochs",
        13,
        batch_size=256,
        learning_rate=3e-3,
        pool_dropout=0.2,
    ),
    "classic_b256_e13_lr4e3_d04": _classic(
        "lesson 7's network, batch 256, learning rate 4e-3, dropout 0.4, 13 epochs",
        13,
        batch_size=256,
        learning_rate=4e-3,
        dropout=0.4,
    ),
    "classic_b512_e15_lr4e3_d04": _classic(
        "lesson 7's network, batch 512, learning rate 4e-3, dropout 0.4, 15 epochs",
        15,
        batch_size=512,
        learning_rate=4e-3,
        dropout=0.4,
    ),
    "classic_b256_e13_lr3e3_d04": _classic(
        "lesson 7's recipe as the lesson trains it (13 epochs): a baseline on the machine "
        "of the candidates measured beside it",
        13,
        batch_size=256,
        learning_rate=3e-3,
        dropout=0.4,
    ),
    "classic_b256_e13_lr3e3_d05": _classic(
        "lesson 7's recipe (batch 256, learning rate 3e-3, 13 epochs) with dropout 0.5 "
        "instead of 0.4: the shipped network scores 95.0 % on its own training images "
        "against 91.7 % on the test images, so it may need more regularising",
        13,
        batch_size=256,
        learning_rate=3e-3,
        dropout=0.5,
    ),
    "classic_b256_e13_lr3e3_d04_dense256": _classic(
        "lesson 7's recipe (batch 256, learning rate 3e-3, dropout 0.4, 13 epochs) with "
        "256 units in the hidden dense layer instead of 128 (about 8 % more work an image)",
        13,
        batch_size=256,
        learning_rate=3e-3,
        dropout=0.4,
        dense_units=256,
    ),
    "classic_b256_e12_lr3e3_d04_dense256": _classic(
        "lesson 7's recipe (batch 256, learning rate 3e-3, dropout 0.4) with 256 units in "
        "the hidden dense layer, and 12 epochs instead of 13 to pay for them",
        12,
        batch_size=256,
        learning_rate=3e-3,
        dropout=0.4,
        dense_units=256,
    ),
    "classic_b256_e13_lr3e3_d04_smooth": _classic(
        "lesson 7's recipe (batch 256, learning rate 3e-3, dropout 0.4, 13 epochs) with "
        "label smoothing 0.1",
        13,
        batch_size=256,
        learning_rate=3e-3,
        dropout=0.4,
        label_smoothing=0.1,
    ),
}
"""The candidates, by record name (``recipes.NAME``)."""


def recipe(name: str) -> Recipe:
    """Return candidate ``name`` as a :class:`fmnist_utils.models.Recipe`.

    Parameters
    ----------
    name : str
        A key of :data:`CANDIDATES`.

    Returns
    -------
    fmnist_utils.models.Recipe
        Lesson 7's or 9's recipe with the candidate's settings.
    """
    from fmnist_utils.models import RECIPES, adam_cosine, classic_cnn, improved_cnn

    candidate = CANDIDATES[name]
    if candidate.base == "classic_cnn":
        return replace(
            RECIPES["classic_cnn"],
            build=partial(
                classic_cnn,
                filters=candidate.filters,
                dropout=candidate.dropout,
                pool_dropout=candidate.pool_dropout,
                dense_units=candidate.dense_units,
            ),
            optimizer=partial(adam_cosine, learning_rate=candidate.learning_rate),
            epochs=candidate.epochs,
            batch_size=candidate.batch_size,
            label_smoothing=candidate.label_smoothing,
            description=candidate.what,
        )
    return replace(
        RECIPES["improved_cnn"],
        build=partial(
            improved_cnn, filters=candidate.filters, flip=candidate.flip, shift=candidate.shift
        ),
        epochs=candidate.epochs,
        batch_size=candidate.batch_size,
        label_smoothing=candidate.label_smoothing,
        mirror_test=candidate.mirror_test,
        description=candidate.what,
    )
