"""The course's networks next to two well-known peers, trained on the same data.

- ``tutorial_mlp``: TensorFlow's "Basic classification: classify images of clothing"
  tutorial (tensorflow.org/tutorials/keras/classification): Flatten, Dense 128 relu,
  Dense 10 (logits); adam, sparse cross-entropy from logits, 10 epochs, batch 32.
- ``keras_mnist_convnet``: the Keras example "Simple MNIST convnet"
  (keras.io/examples/vision/mnist_convnet): Conv 32 3x3 relu, max-pool 2, Conv 64 3x3
  relu, max-pool 2, Flatten, Dropout 0.5, Dense 10 softmax; adam, categorical
  cross-entropy, batch 128, 15 epochs, ``validation_split=0.1``.

Both take the same images as the course's models (``fmnist_utils.data`` and
``fmnist_utils.models.prepare``: all 60,000 training images, pixels / 255) and are
scored on the same 10,000 test images. ``benchmarks.run --only peers`` trains them in
the same run as lesson 7's and lesson 9's models.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import keras


def tutorial_mlp() -> keras.Model:
    """TensorFlow's clothing tutorial's network: Flatten, Dense 128 relu, Dense 10 logits."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ],
        name="tutorial_mlp",
    )


def keras_mnist_convnet() -> keras.Model:
    """The Keras "Simple MNIST convnet" example's network (34,826 weights)."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ],
        name="keras_mnist_convnet",
    )


@dataclass(frozen=True)
class Peer:
    """How a peer is trained, as its source documents it."""

    build: Callable[[], Any]
    source: str
    epochs: int
    batch_size: int
    one_hot: bool
    from_logits: bool
    validation_split: float = 0.0


PEERS: dict[str, Peer] = {
    "tutorial_mlp": Peer(
        tutorial_mlp,
        "TensorFlow tutorial 'Basic classification: classify images of clothing'",
        epochs=10,
        batch_size=32,
        one_hot=False,
        from_logits=True,
    ),
    "keras_mnist_convnet": Peer(
        keras_mnist_convnet,
        "Keras example 'Simple MNIST convnet'",
        epochs=15,
        batch_size=128,
        one_hot=True,
        from_logits=False,
        validation_split=0.1,
    ),
}


def train_peer(name: str, seed: int = 0) -> dict[str, Any]:
    """Train a peer on the full training set; measure it on the full test set.

    Returns
    -------
    dict
        ``test_accuracy`` (0-1), ``train_seconds`` (wall time of ``fit``), ``epochs``,
        ``params``, ``train_examples`` (after the validation split), ``seed``, ``source``.
    """
    import keras

    from fmnist_utils.data import load_fashion_mnist
    from fmnist_utils.models import prepare

    peer = PEERS[name]
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    x_train, x_test = prepare(x_train), prepare(x_test)
    if peer.one_hot:
        y_train, y_test = (
            keras.utils.to_categorical(y_train, 10),
            keras.utils.to_categorical(y_test, 10),
        )
        loss: Any = keras.losses.CategoricalCrossentropy(from_logits=peer.from_logits)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=peer.from_logits)
    keras.utils.set_random_seed(seed)
    model = peer.build()
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        batch_size=peer.batch_size,
        epochs=peer.epochs,
        validation_split=peer.validation_split,
        verbose=2,
    )
    train_seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    return {
        "test_accuracy": float(accuracy),
        "train_seconds": round(train_seconds, 1),
        "epochs": peer.epochs,
        "params": int(model.count_params()),
        "train_examples": round(len(x_train) * (1 - peer.validation_split)),
        "seed": seed,
        "source": peer.source,
    }
