"""The course's reference models, how they are trained, and their shipped weights.

Lessons have learners build their own networks; this module holds the
reference versions that the README, the benchmarks and later lessons rely on:

- :func:`classic_cnn` -- lesson 6's network (Conv-Pool-Conv-Pool-Dense-Dropout-Softmax).
- :func:`improved_cnn` -- lesson 8's network (two blocks of two convolutions with batch
  normalization, dropout, augmentation layers), with :func:`augmentation`,
  :func:`warmup_cosine` and the settings :data:`IMPROVED`.
- :data:`RECIPES` -- how each reference model is trained, by name; a lesson's
  author adds a recipe by adding an entry (``"lesson7_improved_cnn"`` goes in the
  lesson 8 section below).
- :func:`train_and_evaluate` -- train a recipe on the full data (or the
  ``FMNIST_FAST=1`` subset) and measure its test accuracy; ``benchmarks.run`` uses it.
- :func:`load_reference` -- lesson 6's network with the weights shipped in
  :data:`REFERENCE_WEIGHTS`, trained by ``python -m fmnist_utils.tooling.train_reference``.

Keras and TensorFlow are imported inside the functions, never at import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    import keras

__all__ = [
    "IMPROVED",
    "ImprovedSettings",
    "RECIPES",
    "REFERENCE_INFO",
    "REFERENCE_WEIGHTS",
    "Recipe",
    "adam_cosine",
    "adamw_warmup_cosine",
    "augmentation",
    "classic_cnn",
    "improved_cnn",
    "load_reference",
    "prepare",
    "reference_info",
    "train_and_evaluate",
    "warmup_cosine",
]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
REFERENCE_WEIGHTS = WEIGHTS_DIR / "classic_cnn.weights.h5"
"""The shipped weights of lesson 6's network (recipe ``"lesson5_cnn"``)."""
REFERENCE_INFO = WEIGHTS_DIR / "classic_cnn.json"
"""What training the shipped weights measured: accuracy, seed, epochs, time, versions."""

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
        ``loss`` (added for lesson 8; the default 0 keeps ``loss``).
    """

    build: Callable[[], keras.Model]
    optimizer: Callable[[int, int], Any]
    loss: str = "sparse_categorical_crossentropy"
    batch_size: int = 128
    epochs: int = 15
    seed: int = 0
    description: str = ""
    label_smoothing: float = 0.0


# --- Lesson 6: the classic CNN -------------------------------------------------


def classic_cnn() -> keras.Model:
    """Build lesson 6's network: two 3x3 convolution + 2x2 max-pooling blocks, then dense.

    ======================  ==============  =======
    layer                   output shape    weights
    ======================  ==============  =======
    Conv2D(32, 3, relu)     (26, 26, 32)        320
    MaxPooling2D(2)         (13, 13, 32)          0
    Conv2D(64, 3, relu)     (11, 11, 64)     18,496
    MaxPooling2D(2)         (5, 5, 64)            0
    Flatten                 (1600,)               0
    Dense(128, relu)        (128,)          204,928
    Dropout(0.3)            (128,)                0
    Dense(10, softmax)      (10,)             1,290
    ======================  ==============  =======

    Returns
    -------
    keras.Model
        A new, uncompiled ``keras.Sequential`` with 225,034 weights, taking
        ``(n, 28, 28, 1)`` float inputs and returning ``(n, 10)`` class probabilities.
    """
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input((28, 28, 1), name="image"),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dropout(0.3, name="dropout"),
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
    "lesson5_cnn": Recipe(
        build=classic_cnn,
        optimizer=adam_cosine,
        batch_size=128,
        epochs=15,
        seed=0,
        description="classic CNN, Adam 1e-3 with cosine decay, batch 128, 15 epochs",
    ),
}
"""The reference training recipes, by name (``benchmarks.run`` trains them)."""


# --- Lesson 8: the improved CNN -------------------------------------------------


@dataclass(frozen=True)
class ImprovedSettings:
    """The settings of lesson 8's recipe that a learner types in, in one place.

    Lesson 8 reads them (``models.IMPROVED``) so that the model a learner
    trains in the notebook is trained exactly like the benchmark's.

    Attributes
    ----------
    learning_rate : float
        Peak learning rate, reached at the end of the warm-up.
    warmup_epochs : int
        Epochs of linear warm-up from 0.
    weight_decay : float
        AdamW's decoupled weight decay.
    label_smoothing : float
        Fraction of the target spread over all classes.
    shift : float
        Largest random translation, as a fraction of the image's side (0.07 of
        28 pixels: up to 2 pixels each way).
    """

    learning_rate: float = 3e-3
    warmup_epochs: int = 1
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    shift: float = 0.07


IMPROVED = ImprovedSettings()
"""Lesson 8's settings (recipe ``"lesson7_improved_cnn"``)."""


def augmentation(shift: float = IMPROVED.shift, *, flip: bool = True) -> keras.Sequential:
    """Build lesson 8's data augmentation: a random horizontal flip, then a random shift.

    Both layers are active only in training (``training=True``); at inference
    they return their input unchanged. The shift uses nearest-neighbour
    sampling, so pixels move by whole pixels and stay sharp, and fills the
    uncovered border with 0 (the black background).

    Parameters
    ----------
    shift : float, optional
        Largest shift, as a fraction of the height and of the width; 0 for none.
    flip : bool, optional
        Include the horizontal flip.

    Returns
    -------
    keras.Sequential
        The preprocessing layers, named ``"augmentation"``.
    """
    import keras
    from keras import layers

    steps: list[Any] = []
    if flip:
        steps.append(layers.RandomFlip("horizontal", name="flip"))
    if shift:
        steps.append(
            layers.RandomTranslation(
                shift, shift, fill_mode="constant", interpolation="nearest", name="shift"
            )
        )
    return keras.Sequential(steps, name="augmentation")


def improved_cnn(
    *,
    augment: bool = True,
    dropout: bool = True,
    batch_norm: bool = True,
    filters: tuple[int, int] = (24, 48),
    dense: int = 128,
    shift: float = IMPROVED.shift,
) -> keras.Model:
    """Build lesson 8's improved CNN (the flags switch ingredients off for experiments).

    ================================================================  ============
    layers                                                            output shape
    ================================================================  ============
    augmentation: RandomFlip("horizontal"), RandomTranslation(0.07)   (28, 28, 1)
    2 x [Conv2D(24, 3, "same", no bias), BatchNormalization, ReLU]    (28, 28, 24)
    MaxPooling2D(2), Dropout(0.1)                                     (14, 14, 24)
    2 x [Conv2D(48, 3, "same", no bias), BatchNormalization, ReLU]    (14, 14, 48)
    MaxPooling2D(2), Dropout(0.1)                                     (7, 7, 48)
    Flatten                                                           (2352,)
    Dense(128, no bias), BatchNormalization, ReLU, Dropout(0.3)       (128,)
    Dense(10, softmax)                                                (10,)
    ================================================================  ============

    Parameters
    ----------
    augment : bool, optional
        Start with :func:`augmentation` (active only in training).
    dropout : bool, optional
        Include the three dropout layers.
    batch_norm : bool, optional
        Include the five batch-normalization layers (without them, the
        convolutions and the hidden dense layer get biases instead).
    filters : tuple of int, optional
        Filters of the convolutions in the first and second block.
    dense : int, optional
        Units of the hidden dense layer.
    shift : float, optional
        The augmentation's largest shift.

    Returns
    -------
    keras.Model
        A new, uncompiled ``keras.Sequential``; with the defaults it has 339,938
        weights (339,394 trainable), takes ``(n, 28, 28, 1)`` floats in [0, 1]
        and returns ``(n, 10)`` class probabilities.
    """
    import keras
    from keras import layers

    model = keras.Sequential(name="improved_cnn")
    model.add(keras.Input((28, 28, 1), name="image"))
    if augment:
        model.add(augmentation(shift))
    for block, width in enumerate(filters, start=1):
        for conv in (1, 2):
            model.add(
                layers.Conv2D(
                    width, 3, padding="same", use_bias=not batch_norm, name=f"conv{block}_{conv}"
                )
            )
            if batch_norm:
                model.add(layers.BatchNormalization(name=f"bn{block}_{conv}"))
            model.add(layers.Activation("relu", name=f"relu{block}_{conv}"))
        model.add(layers.MaxPooling2D(2, name=f"pool{block}"))
        if dropout:
            model.add(layers.Dropout(0.1, name=f"dropout{block}"))
    model.add(layers.Flatten(name="flatten"))
    model.add(layers.Dense(dense, use_bias=not batch_norm, name="dense"))
    if batch_norm:
        model.add(layers.BatchNormalization(name="bn_dense"))
    model.add(layers.Activation("relu", name="relu_dense"))
    if dropout:
        model.add(layers.Dropout(0.3, name="dropout_dense"))
    model.add(layers.Dense(10, activation="softmax", name="probabilities"))
    return model


def warmup_cosine(
    steps_per_epoch: int,
    epochs: int,
    peak_lr: float = IMPROVED.learning_rate,
    warmup_epochs: int = IMPROVED.warmup_epochs,
) -> Any:
    """Learning rate rising linearly from 0 to ``peak_lr``, then a cosine down to 0.

    Parameters
    ----------
    steps_per_epoch : int
        Training steps per epoch.
    epochs : int
        Epochs of the whole training, warm-up included.
    peak_lr : float, optional
        The rate at the end of the warm-up.
    warmup_epochs : int, optional
        Epochs of warm-up (fewer if training is shorter; 0 for none).

    Returns
    -------
    keras.optimizers.schedules.CosineDecay
        The schedule.
    """
    import keras

    total = max(1, steps_per_epoch * epochs)
    warmup = min(warmup_epochs * steps_per_epoch, total - 1)
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else peak_lr,
        decay_steps=total - warmup,
        alpha=0.0,
        warmup_target=peak_lr if warmup else None,
        warmup_steps=warmup,
    )


def adamw_warmup_cosine(steps_per_epoch: int, epochs: int) -> Any:
    """AdamW (weight decay :data:`IMPROVED`) on :func:`warmup_cosine`'s schedule.

    Parameters
    ----------
    steps_per_epoch, epochs : int
        The training's length, as for :func:`warmup_cosine`.

    Returns
    -------
    keras.optimizers.AdamW
        A new optimizer.
    """
    import keras

    return keras.optimizers.AdamW(
        warmup_cosine(steps_per_epoch, epochs), weight_decay=IMPROVED.weight_decay
    )


RECIPES["lesson7_improved_cnn"] = Recipe(
    build=improved_cnn,
    optimizer=adamw_warmup_cosine,
    batch_size=128,
    epochs=12,
    seed=0,
    label_smoothing=IMPROVED.label_smoothing,
    description=(
        "improved CNN (24-48 filters, 2 conv/block, batch norm, dropout 0.1/0.3, flip + "
        "2-pixel shift augmentation), AdamW 3e-3 with 1-epoch warm-up and cosine decay, "
        "label smoothing 0.1, batch 128, 12 epochs"
    ),
)


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
        A key of :data:`RECIPES`, e.g. ``"lesson5_cnn"``.
    seed : int, optional
        Seed for ``keras.utils.set_random_seed`` (default: the recipe's).
    verbose : int, optional
        Passed to ``model.fit`` (0 silent, 2 one line per epoch).
    return_model : bool, optional
        Also return the trained model, under the key ``"model"``.

    Returns
    -------
    dict
        ``test_accuracy`` (float in 0-1), ``test_loss``, ``train_seconds`` (wall
        time of ``fit``), ``epochs``, ``params``, ``seed``, ``train_examples``,
        ``fast`` (bool), ``recipe`` (name), and ``model`` if asked.

    Raises
    ------
    KeyError
        If ``name`` is not a recipe.
    """
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}")
    import keras

    from fmnist_utils import fast
    from fmnist_utils.data import load_fashion_mnist

    recipe = RECIPES[name]
    seed = recipe.seed if seed is None else seed
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    x_train, y_train = fast.training_data(x_train, y_train)
    x_train, x_test = prepare(x_train), prepare(x_test)
    epochs = fast.epochs(recipe.epochs)

    keras.utils.set_random_seed(seed)
    model = recipe.build()
    steps_per_epoch = int(np.ceil(len(x_train) / recipe.batch_size))
    loss: Any = recipe.loss
    if recipe.label_smoothing > 0:  # smoothing needs one-hot targets
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
        y_train = keras.utils.to_categorical(y_train, 10)
        y_test = keras.utils.to_categorical(y_test, 10)
    model.compile(
        optimizer=recipe.optimizer(steps_per_epoch, epochs),
        loss=loss,
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=recipe.batch_size, epochs=epochs, verbose=verbose)
    train_seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    result: dict[str, Any] = {
        "recipe": name,
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "train_seconds": round(train_seconds, 1),
        "epochs": int(epochs),
        "params": int(model.count_params()),
        "seed": int(seed),
        "train_examples": len(x_train),
        "fast": fast.is_fast(),
    }
    if return_model:
        result["model"] = model
    return result


def load_reference() -> keras.Model:
    """Return lesson 6's network with the shipped, trained weights.

    Returns
    -------
    keras.Model
        :func:`classic_cnn` with the weights of :data:`REFERENCE_WEIGHTS`, not
        compiled (``predict`` and calling it work; compile it to ``fit`` or
        ``evaluate``). It takes ``prepare(x)`` and returns class probabilities.

    Raises
    ------
    FileNotFoundError
        If the weights file is missing (re-create it with
        ``python -m fmnist_utils.tooling.train_reference``).
    """
    if not REFERENCE_WEIGHTS.is_file():
        raise FileNotFoundError(
            f"{REFERENCE_WEIGHTS} is missing; reinstall the course, or train the reference "
            "model again with `python -m fmnist_utils.tooling.train_reference` (a few minutes)."
        )
    model = classic_cnn()
    model.load_weights(REFERENCE_WEIGHTS)
    return model


def reference_info() -> dict[str, Any]:
    """Read what training the shipped weights measured (:data:`REFERENCE_INFO`).

    Returns
    -------
    dict
        ``test_accuracy``, ``seed``, ``epochs``, ``train_seconds``, versions, ...
    """
    import json

    return json.loads(REFERENCE_INFO.read_text(encoding="utf-8"))
