"""The course's reference models, how they are trained, and their shipped weights.

Lessons have learners build their own networks; this module holds the
reference versions that the README, the benchmarks and later lessons rely on:

- :func:`classic_cnn` -- lesson 7's network (Conv-Pool-Conv-Pool-Dense-Dropout-Softmax).
- :data:`RECIPES` -- how each reference model is trained, by name; a lesson's
  author adds a recipe by adding an entry (``"improved_cnn"``, lesson 9's,
  is in the lesson 9 section below; its building blocks are in
  :mod:`fmnist_utils.improved`).
- :func:`train_and_evaluate` -- train a recipe on the full data (or the
  ``FMNIST_FAST=1`` subset), streaming uint8 batches (:mod:`fmnist_utils.pipeline`),
  and measure its test accuracy; ``benchmarks.run`` uses it.
- :data:`SHIPPED` -- the networks shipped with trained weights in ``weights/``
  (``"classic_cnn"``, ``"improved_cnn"``), trained by
  ``python -m fmnist_utils.tooling.train_reference --model NAME``;
  :func:`load_reference` loads one, :func:`reference_info` reads its record,
  :func:`best_reference` names the one with the higher recorded test accuracy.

Keras and TensorFlow are imported inside the functions, never at import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fmnist_utils.improved import adam_warmup_cosine, improved_cnn, mirror_average

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    import keras

__all__ = [
    "RECIPES",
    "REFERENCE_INFO",
    "REFERENCE_WEIGHTS",
    "SHIPPED",
    "Recipe",
    "adam_cosine",
    "best_reference",
    "classic_cnn",
    "load_reference",
    "prepare",
    "reference_info",
    "train_and_evaluate",
]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
REFERENCE_WEIGHTS = WEIGHTS_DIR / "classic_cnn.weights.h5"
"""The shipped weights of lesson 7's network (recipe ``"classic_cnn"``)."""
REFERENCE_INFO = WEIGHTS_DIR / "classic_cnn.json"
"""What training the shipped weights measured: accuracy, seed, epochs, time, versions."""
SHIPPED: tuple[str, ...] = ("classic_cnn", "improved_cnn")
"""The networks shipped with trained weights, each trained by the recipe of its name.

Each has ``weights/NAME.weights.h5`` and ``weights/NAME.json`` (its record)."""

# --- Shared ------------------------------------------------------------------


def prepare(x: np.ndarray) -> np.ndarray:
    """Turn uint8 images into what the networks take: float32 in [0, 1], one channel.

    Parameters
    ----------
    x : numpy.ndarray
        Images, shape ``(n, 28, 28)`` (or already ``(n, 28, 28, 1)``), values 0-255.

    Returns
    -------
    numpy.ndarray
        A new ``float32`` array of shape ``(n, 28, 28, 1)``, the pixels divided by 255.

    Raises
    ------
    ValueError
        If ``x`` is not a stack of 28x28 images.
    """
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (n, 28, 28), got {x.shape}")
    return (x.astype(np.float32) / np.float32(255.0))[..., np.newaxis]


@dataclass(frozen=True)
class Recipe:
    """Everything needed to train one reference model the same way twice.

    Attributes
    ----------
    build : callable
        Returns a new, uncompiled ``keras.Model`` taking ``(n, 28, 28, 1)`` inputs.
    optimizer : callable
        Takes the number of steps per epoch and the number of epochs, and returns
        a new Keras optimizer (with its learning-rate schedule).
    loss : str
        A Keras loss name for integer labels.
    batch_size : int
        Examples per training step.
    epochs : int
        Epochs on the full data (at most 2 under ``FMNIST_FAST=1``).
    seed : int
        Default seed of ``keras.utils.set_random_seed``.
    description : str
        One line for people: what the recipe is.
    label_smoothing : float
        If above 0, train on one-hot labels with
        ``keras.losses.CategoricalCrossentropy(label_smoothing=...)`` instead of
        ``loss`` (added for lesson 9; the default 0 keeps ``loss``).
    mirror_test : bool
        Measure (and use) the trained network through :func:`mirror_average`:
        each test image and its mirror image, the probabilities averaged. Only
        for networks trained with horizontal flips.
    """

    build: Callable[[], keras.Model]
    optimizer: Callable[[int, int], Any]
    loss: str = "sparse_categorical_crossentropy"
    batch_size: int = 128
    epochs: int = 15
    seed: int = 0
    description: str = ""
    label_smoothing: float = 0.0
    mirror_test: bool = False


# --- Lesson 7: the classic CNN -------------------------------------------------


def classic_cnn(
    filters: tuple[int, int] = (32, 64),
    dropout: float = 0.4,
    pool_dropout: float = 0.0,
    dense_units: int = 256,
) -> keras.Model:
    """Build lesson 7's network: two 3x3 convolution + 2x2 max-pooling blocks, then dense.

    ======================  ==============  =======
    layer                   output shape    weights
    ======================  ==============  =======
    Conv2D(32, 3, relu)     (26, 26, 32)        320
    MaxPooling2D(2)         (13, 13, 32)          0
    Conv2D(64, 3, relu)     (11, 11, 64)     18,496
    MaxPooling2D(2)         (5, 5, 64)            0
    Flatten                 (1600,)               0
    Dense(256, relu)        (256,)          409,856
    Dropout(0.4)            (256,)                0
    Dense(10, softmax)      (10,)             2,570
    ======================  ==============  =======

    Parameters
    ----------
    filters : tuple of int, optional
        Filters of the two convolutions (the table's 32 and 64; other widths are
        for the recipe search, ``benchmarks.recipe_search``).
    dropout : float, optional
        The dropout rate before the last layer.
    pool_dropout : float, optional
        If above 0, a ``Dropout`` of this rate after each pooling layer.
    dense_units : int, optional
        Units of the hidden dense layer (the table's 256; other widths are for the
        recipe search).

    Returns
    -------
    keras.Model
        A new, uncompiled ``keras.Sequential`` (431,242 weights with the defaults), taking
        ``(n, 28, 28, 1)`` float inputs and returning ``(n, 10)`` class probabilities.
    """
    import keras
    from keras import layers

    def after_pool(block: int) -> list[Any]:
        return [layers.Dropout(pool_dropout, name=f"pool{block}_dropout")] if pool_dropout else []

    return keras.Sequential(
        [
            keras.Input((28, 28, 1), name="image"),
            layers.Conv2D(filters[0], 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            *after_pool(1),
            layers.Conv2D(filters[1], 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            *after_pool(2),
            layers.Flatten(name="flatten"),
            layers.Dense(dense_units, activation="relu", name="dense"),
            layers.Dropout(dropout, name="dropout"),
            layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="classic_cnn",
    )


def adam_cosine(steps_per_epoch: int, epochs: int, learning_rate: float = 1e-3) -> Any:
    """Adam whose learning rate falls from ``learning_rate`` to 1 % of it along a cosine.

    Parameters
    ----------
    steps_per_epoch : int
        Training steps per epoch.
    epochs : int
        Epochs the schedule spans.
    learning_rate : float, optional
        The starting learning rate.

    Returns
    -------
    keras.optimizers.Adam
        A new optimizer.
    """
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate, decay_steps=max(1, steps_per_epoch * epochs), alpha=0.01
    )
    return keras.optimizers.Adam(schedule)


RECIPES: dict[str, Recipe] = {
    "classic_cnn": Recipe(
        build=classic_cnn,
        optimizer=partial(adam_cosine, learning_rate=3e-3),
        batch_size=256,
        epochs=12,
        seed=0,
        description=(
            "classic CNN (256 units in its hidden dense layer), Adam 3e-3 with cosine decay, "
            "batch 256, 12 epochs"
        ),
    ),
}
"""The reference training recipes, by name (``benchmarks.run`` trains them)."""


# --- Lesson 9: the improved CNN (its blocks are in fmnist_utils.improved) ----------


RECIPES["improved_cnn"] = Recipe(
    build=improved_cnn,
    optimizer=adam_warmup_cosine,
    batch_size=128,
    epochs=15,
    seed=0,
    description=(
        "improved CNN (16-48 filters, 2 conv/block, batch norm, dropout 0.1/0.3, flip + "
        "1-pixel shift augmentation), Adam 3e-3 with 1-epoch warm-up and cosine decay, "
        "batch 128, 15 epochs; tested on each image and its mirror image, averaged"
    ),
    mirror_test=True,
)
"""Lesson 9's recipe: what the lesson trains at its end (AdamW's weight decay and
label smoothing, ``fmnist_utils.improved.IMPROVED``, are its optional further exercises)."""


# --- Training and the shipped weights ---------------------------------------------


def train_and_evaluate(
    name: str,
    *,
    seed: int | None = None,
    verbose: int = 2,
    return_model: bool = False,
) -> dict[str, Any]:
    """Train a recipe on the training set, then measure it on the full test set.

    Under ``FMNIST_FAST=1`` the training data is ``fast.training_data``'s 2,000-image
    subset and the epochs at most 2 (see :mod:`fmnist_utils.fast`); the test set is
    never trimmed.

    Parameters
    ----------
    name : str
        A key of :data:`RECIPES`, e.g. ``"classic_cnn"``.
    seed : int, optional
        Seed for ``keras.utils.set_random_seed`` (default: the recipe's).
    verbose : int, optional
        Passed to ``model.fit`` (0 silent, 2 one line per epoch).
    return_model : bool, optional
        Also return the trained model, under the key ``"model"``.

    Returns
    -------
    dict
        ``test_accuracy`` (float in 0-1; through :func:`mirror_average` if the
        recipe's ``mirror_test``), ``test_loss`` (the same way),
        ``test_accuracy_plain`` (the network alone), ``mirror_test``,
        ``train_seconds`` (wall time of ``fit``), ``train_cpu_seconds`` (its CPU
        time, all threads), ``epochs``, ``params``, ``seed``, ``train_examples``,
        ``fast`` (bool), ``recipe`` (name), and ``model`` (the trained network,
        without the mirror) if asked.

    Raises
    ------
    KeyError
        If ``name`` is not a recipe.
    """
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}")
    import keras

    from fmnist_utils import fast, pipeline
    from fmnist_utils.data import load_fashion_mnist

    recipe = RECIPES[name]
    seed = recipe.seed if seed is None else seed
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    x_train, y_train = fast.training_data(x_train, y_train)
    epochs = fast.epochs(recipe.epochs)

    keras.utils.set_random_seed(seed)
    model = recipe.build()
    steps_per_epoch = int(np.ceil(len(x_train) / recipe.batch_size))
    loss: Any = recipe.loss
    classes = None
    if recipe.label_smoothing > 0:  # smoothing needs one-hot targets
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
        classes = 10
    model.compile(
        optimizer=recipe.optimizer(steps_per_epoch, epochs),
        loss=loss,
        metrics=["accuracy"],
    )
    train = pipeline.batches(
        x_train, y_train, batch_size=recipe.batch_size, shuffle=True, seed=seed, num_classes=classes
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(train, epochs=epochs, verbose=verbose, shuffle=False)  # the batches are shuffled
    train_seconds = time.perf_counter() - start
    train_cpu_seconds = time.process_time() - cpu_start
    test = pipeline.batches(x_test, y_test, batch_size=250, num_classes=classes)
    test_loss, test_accuracy = model.evaluate(test, verbose=0)
    plain_accuracy = test_accuracy  # the network alone
    if recipe.mirror_test:
        mirrored = mirror_average(model)
        mirrored.compile(loss=loss, metrics=["accuracy"])
        test_loss, test_accuracy = mirrored.evaluate(test, verbose=0)
    result: dict[str, Any] = {
        "recipe": name,
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "test_accuracy_plain": float(plain_accuracy),
        "mirror_test": recipe.mirror_test,
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
        "epochs": int(epochs),
        "params": int(model.count_params()),
        "seed": int(seed),
        "train_examples": len(x_train),
        "fast": fast.is_fast(),
    }
    if return_model:
        result["model"] = model
    return result


def _shipped(model: str) -> tuple[Path, Path]:
    """Return the weights file and the record of a shipped network."""
    if model not in SHIPPED:
        raise KeyError(f"no shipped weights for {model!r}; shipped: {', '.join(sorted(SHIPPED))}")
    return WEIGHTS_DIR / f"{model}.weights.h5", WEIGHTS_DIR / f"{model}.json"


def load_reference(model: str = "classic_cnn", *, mirror: bool | None = None) -> keras.Model:
    """Return a reference network with its shipped, trained weights.

    Parameters
    ----------
    model : str, optional
        A key of :data:`SHIPPED`: ``"classic_cnn"`` (lesson 7's network, the
        default) or ``"improved_cnn"`` (lesson 9's).
    mirror : bool, optional
        Wrap the network in :func:`mirror_average`. By default, as its recipe is
        measured (its ``mirror_test``), so that it scores its record's
        ``test_accuracy``; ``False`` gives the network alone (the record's
        ``test_accuracy_plain``).

    Returns
    -------
    keras.Model
        The network (without its training-only augmentation) with the weights of
        ``weights/MODEL.weights.h5``, not compiled (``predict`` and calling it
        work; compile it to ``fit`` or ``evaluate``). It takes ``prepare(x)``
        and returns class probabilities.

    Raises
    ------
    KeyError
        If ``model`` is not shipped.
    FileNotFoundError
        If the weights file is missing (re-create it with
        ``python -m fmnist_utils.tooling.train_reference --model MODEL``).
    """
    weights, _ = _shipped(model)
    if not weights.is_file():
        raise FileNotFoundError(
            f"{weights} is missing; reinstall the course, or train the model again with "
            f"`python -m fmnist_utils.tooling.train_reference --model {model}` (minutes)."
        )
    # Augmentation acts only in training and holds no weights: the loaded network is
    # built without it, so that it saves and exports like any inference model.
    network = improved_cnn(augment=False) if model == "improved_cnn" else classic_cnn()
    network.load_weights(weights)
    if mirror is None:
        mirror = RECIPES[model].mirror_test
    return mirror_average(network) if mirror else network


def reference_info(model: str = "classic_cnn") -> dict[str, Any]:
    """Read what training a shipped network's weights measured.

    Parameters
    ----------
    model : str, optional
        A key of :data:`SHIPPED`.

    Returns
    -------
    dict
        ``test_accuracy``, ``seed``, ``epochs``, ``train_seconds``, load averages,
        versions, ``date``, ``command``, ...
    """
    import json

    _, info = _shipped(model)
    return json.loads(info.read_text(encoding="utf-8"))


def best_reference() -> str:
    """Name the shipped network with the higher recorded test accuracy.

    Returns
    -------
    str
        A key of :data:`SHIPPED` whose record exists (a missing record counts as
        not shipped).
    """
    recorded = {
        name: reference_info(name)["test_accuracy"]
        for name in SHIPPED
        if _shipped(name)[1].is_file() and _shipped(name)[0].is_file()
    }
    if not recorded:
        raise FileNotFoundError(f"no shipped weights in {WEIGHTS_DIR}")
    return max(recorded, key=recorded.__getitem__)
