"""Numbers the lessons' prose states about their networks equal what the code builds."""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _text(lesson: str) -> str:
    return next((ROOT / "solutions" / lesson).glob("*.py")).read_text(encoding="utf-8")


def _receptive_field(model) -> int:
    """Receptive field of the last layer, by lesson 6's rule (r += (k - 1) * jump)."""
    import keras

    size, jump = 1, 1
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            size += (layer.kernel_size[0] - 1) * jump
            jump *= layer.strides[0]
        elif isinstance(layer, keras.layers.MaxPooling2D):
            size += (layer.pool_size[0] - 1) * jump
            jump *= layer.strides[0]
    return size


def test_lesson_7_gives_conv2_its_receptive_field() -> None:
    import keras

    from fmnist_utils import models

    net = models.classic_cnn()
    upto = keras.Sequential([keras.Input((28, 28, 1)), *net.layers[: 1 + _index(net, "conv", 2)]])
    claimed = re.search(
        r"first-layer maps over an? (\d+)×(\d+) patch", _text("08_evaluate_and_look_inside")
    )
    assert claimed, "lesson 8 no longer states conv2's patch size"
    assert int(claimed.group(1)) == int(claimed.group(2)) == _receptive_field(upto)


def _index(net, kind: str, nth: int) -> int:
    found = [i for i, layer in enumerate(net.layers) if kind in type(layer).__name__.lower()]
    return found[nth - 1]


def test_lesson_7_compares_its_weights_with_the_dense_network_honestly() -> None:
    from fmnist_utils import models

    cnn = models.classic_cnn().count_params()
    dense = 784 * 128 + 128 + 128 * 10 + 10  # lesson 4's dense network
    text = _text("07_build_and_train_cnn")
    assert "fraction of the weights" not in text
    assert "about four times the dense network's weights" in text
    assert 3.5 < cnn / dense < 4.5, cnn / dense
