"""Lesson 9's improved CNN: its settings, augmentation, network and learning-rate schedule.

- :data:`IMPROVED` -- the settings a learner types in (:class:`ImprovedSettings`).
- :func:`augmentation` -- a random horizontal flip and a small random shift.
- :func:`improved_cnn` -- the network (flags switch ingredients off for experiments).
- :func:`mirror_average` -- the network asked twice, about each image and its mirror
  image, its two answers averaged (the flip of the augmentation, used at test time).
- :func:`warmup_cosine` -- linear warm-up, then cosine decay; :func:`adam_warmup_cosine`
  (the lesson's optimizer).

Lessons import them from here; :mod:`fmnist_utils.models` holds the recipe that
trains the network (``RECIPES["improved_cnn"]``). Keras is imported inside the
functions, never at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    import keras

__all__ = [
    "IMPROVED",
    "ImprovedSettings",
    "adam_warmup_cosine",
    "augmentation",
    "improved_cnn",
    "mirror_average",
    "warmup_cosine",
]


@dataclass(frozen=True)
class ImprovedSettings:
    """The settings of lesson 9's recipe that a learner types in, in one place.

    Lesson 9 reads them (``IMPROVED``) so that the model a learner
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
        Largest random translation, as a fraction of the image's side (0.04 of
        28 pixels: up to 1 pixel each way).
    """

    learning_rate: float = 3e-3
    warmup_epochs: int = 1
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    shift: float = 0.04


IMPROVED = ImprovedSettings()
"""Lesson 9's settings (recipe ``"improved_cnn"``)."""


def augmentation(shift: float = IMPROVED.shift, *, flip: bool = True) -> keras.Sequential:
    """Build lesson 9's data augmentation: a random horizontal flip, then a random shift.

    Both layers are active only in training (``training=True``); at inference
    they return their input unchanged. The shift uses nearest-neighbour
    sampling, so pixels move by whole pixels and stay sharp, and fills the
    uncovered border with 0 (the background, drawn white).

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
    flip: bool = True,
    dropout: bool = True,
    batch_norm: bool = True,
    filters: tuple[int, int] = (16, 48),
    dense: int = 128,
    shift: float = IMPROVED.shift,
    bn_momentum: float = 0.99,
    convs_per_block: int = 2,
) -> keras.Model:
    """Build lesson 9's improved CNN (the flags switch ingredients off for experiments).

    ================================================================  ============
    layers                                                            output shape
    ================================================================  ============
    augmentation: RandomFlip("horizontal"), RandomTranslation(0.04)   (28, 28, 1)
    2 x [Conv2D(16, 3, "same", no bias), BatchNormalization, ReLU]    (28, 28, 16)
    MaxPooling2D(2), Dropout(0.1)                                     (14, 14, 16)
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
    flip : bool, optional
        Include the augmentation's horizontal flip.
    dropout : bool, optional
        Include the three dropout layers.
    batch_norm : bool, optional
        Include the five batch-normalization layers (without them, the
        convolutions and the hidden dense layer get biases instead).
    filters : tuple of int, optional
        Filters of the convolutions in the first and second block. The first
        block works at full resolution, where each filter costs 4 times as much
        as in the second: 16 there and 48 after the pooling train an epoch in
        about 60 % of the time of 24 and 48 (39 s against 62 s on 2 Intel cores:
        the recipe search's ``f16_48_e11_mirror`` and ``improved_e12_smooth`` in
        ``benchmarks/results.json``).
    dense : int, optional
        Units of the hidden dense layer.
    shift : float, optional
        The augmentation's largest shift.
    bn_momentum : float, optional
        The batch normalizations' ``momentum``: each training step moves their
        running averages ``1 - bn_momentum`` of the way to the batch's statistics
        (Keras' 0.99 needs a few hundred steps to settle; short runs use less).
    convs_per_block : int, optional
        Convolutions before each pooling (1 makes a network about as cheap as
        lesson 7's, for short experiments).

    Returns
    -------
    keras.Model
        A new, uncompiled ``keras.Sequential``; with the defaults it has 333,466
        weights (332,954 trainable), takes ``(n, 28, 28, 1)`` floats in [0, 1]
        and returns ``(n, 10)`` class probabilities.
    """
    import keras
    from keras import layers

    model = keras.Sequential(name="improved_cnn")
    model.add(keras.Input((28, 28, 1), name="image"))
    if augment:
        model.add(augmentation(shift, flip=flip))
    for block, width in enumerate(filters, start=1):
        for conv in range(1, convs_per_block + 1):
            model.add(
                layers.Conv2D(
                    width, 3, padding="same", use_bias=not batch_norm, name=f"conv{block}_{conv}"
                )
            )
            if batch_norm:
                model.add(layers.BatchNormalization(momentum=bn_momentum, name=f"bn{block}_{conv}"))
            model.add(layers.Activation("relu", name=f"relu{block}_{conv}"))
        model.add(layers.MaxPooling2D(2, name=f"pool{block}"))
        if dropout:
            model.add(layers.Dropout(0.1, name=f"dropout{block}"))
    model.add(layers.Flatten(name="flatten"))
    model.add(layers.Dense(dense, use_bias=not batch_norm, name="dense"))
    if batch_norm:
        model.add(layers.BatchNormalization(momentum=bn_momentum, name="bn_dense"))
    model.add(layers.Activation("relu", name="relu_dense"))
    if dropout:
        model.add(layers.Dropout(0.3, name="dropout_dense"))
    model.add(layers.Dense(10, activation="softmax", name="probabilities"))
    return model


def mirror_average(network: keras.Model) -> keras.Model:
    """Wrap a network so that it answers for each image and its mirror image, averaged.

    A network trained with horizontal flips (:func:`augmentation`) has learned
    that a mirrored garment is the same garment, so asking it twice and
    averaging the two sets of probabilities smooths out some of its mistakes:
    test-time augmentation. It costs a second prediction, no training.

    Parameters
    ----------
    network : keras.Model
        Takes ``(n, 28, 28, 1)`` images and returns ``(n, 10)`` probabilities.

    Returns
    -------
    keras.Model
        A functional model named ``"mirror_average"`` over the same layers (its
        weights are the network's, shared): ``(network(x) + network(flip(x))) / 2``,
        where ``flip`` mirrors the width axis. It saves (``.keras``) and exports
        like any model, with Keras' own layers and operations only.
    """
    import keras
    from keras import layers

    image = keras.Input((28, 28, 1), name="image")
    mirrored = keras.ops.flip(image, axis=2)  # axis 2 is the width: left <-> right
    average = layers.Average(name="average")([network(image), network(mirrored)])
    return keras.Model(image, average, name="mirror_average")


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


def adam_warmup_cosine(steps_per_epoch: int, epochs: int) -> Any:
    """Adam on :func:`warmup_cosine`'s schedule (peak and warm-up from :data:`IMPROVED`).

    Parameters
    ----------
    steps_per_epoch, epochs : int
        The training's length, as for :func:`warmup_cosine`.

    Returns
    -------
    keras.optimizers.Adam
        A new optimizer.
    """
    import keras

    return keras.optimizers.Adam(warmup_cosine(steps_per_epoch, epochs))
