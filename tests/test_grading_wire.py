"""What may cross between the learner's kernel and the tests, and what is refused.

:mod:`fmnist_utils.grading.wire` carries plain data only; :func:`decode` checks every
tag, dtype, shape and size before it builds a value, and Keras objects are rebuilt in
Keras' safe mode.
"""

from __future__ import annotations

import json
import pathlib
import socket

import numpy as np
import pytest

from fmnist_utils.grading import wire
from fmnist_utils.standins import RecordingModel


def _roundtrip(value, **kwargs):
    header, buffers = wire.encode(value, **kwargs)
    header = json.loads(json.dumps(header))  # what the socket carries is JSON
    return wire.decode(header, buffers)


@pytest.mark.parametrize(
    "value",
    [
        None, True, 0, -3, 2**80, 1.5, float("nan"), float("inf"), 1 + 2j, "text", b"\x00\xff",
        [1, [2, "x"]], (1, (2.0, None)), {"a": 1, 2: [3], (1, 2): "t"},
    ],
)  # fmt: skip
def test_plain_python_values_cross_unchanged(value) -> None:
    """Numbers, text, bytes and containers come back equal and of the same type."""
    back = _roundtrip(value)
    assert type(back) is type(value)
    if isinstance(value, float) and value != value:
        assert back != back
    else:
        assert back == value


@pytest.mark.parametrize(
    "dtype", ["bool", "uint8", "int64", "float32", "float64", "complex64", "<U5"]
)
def test_arrays_and_scalars_keep_dtype_shape_and_values(dtype: str) -> None:
    """Arrays come back as plain, writable ndarrays; NumPy scalars keep their type."""
    array = np.arange(12).reshape(3, 4).astype(dtype)
    back = _roundtrip(array[:, ::2])  # not contiguous
    assert type(back) is np.ndarray and back.dtype == array.dtype and back.flags.writeable
    np.testing.assert_array_equal(back, array[:, ::2])
    zero_d = np.array(array.flat[5])
    assert _roundtrip(zero_d).shape == ()
    scalar = array.flat[5]
    assert type(_roundtrip(scalar)) is type(scalar) and _roundtrip(scalar) == scalar


def test_records_of_data_cross() -> None:
    """Paths, images, random generators and the stand-in model are data too."""
    from PIL import Image

    assert _roundtrip(pathlib.Path("/tmp/a b.jpg")) == pathlib.Path("/tmp/a b.jpg")
    image = Image.fromarray(np.arange(24, dtype=np.uint8).reshape(2, 4, 3))
    back = _roundtrip(image)
    assert back.mode == "RGB" and back.tobytes() == image.tobytes()
    rng = np.random.default_rng(3)
    rng.random(5)
    assert _roundtrip(rng).random() == rng.random()
    model = RecordingModel([0.5, 0.5])
    model.predict(np.zeros((1, 2)))
    back = _roundtrip(model)
    assert isinstance(back, RecordingModel) and len(back.seen) == 1
    cube = _roundtrip(np.poly1d([1.0, 0.0, 0.0, -2.0]))
    assert type(cube) is np.poly1d and cube(2.0) == 6.0
    assert _roundtrip(np.sin) is np.sin


def test_a_learner_function_crosses_by_name_towards_the_learner_only() -> None:
    """A test may hand the learner's own function back to the learner; nothing else may."""

    def loss_at(s):
        return s * s

    passed = type("LearnerFunction", (), {"__module__": "fmnist_utils.grading.trusted"})()
    passed.__name__ = "loss_at"
    tree, buffers = wire.encode(((passed, 2.0), {}))
    args, _ = wire.decode(tree, buffers, functions={"loss_at": loss_at})
    assert args[0] is loss_at, "the learner's side finds it in its own namespace"
    with pytest.raises(wire.WireError, match="function that is not there"):
        wire.decode(tree, buffers)  # the trusted side is given no names
    with pytest.raises(wire.WireError, match="function that is not there"):
        wire.decode(tree, buffers, functions={"loss_at": 3})
    forged = {"$": "ufunc", "name": "load"}  # np.load is a function, not a ufunc
    with pytest.raises(wire.WireError, match="ufunc that is not there"):
        wire.decode(forged, [])
    square, data = wire.encode(np.zeros((2, 2)))  # coefficients must be one row
    with pytest.raises(wire.WireError, match="invalid polynomial"):
        wire.decode({"$": "poly1d", "coeffs": square}, data)


@pytest.mark.parametrize(
    "value, named",
    [
        (np.zeros(3).view(np.matrix), "matrix"),
        (np.array([object()]), "dtype object"),
        (np.zeros(2, dtype=[("a", "i4")]), "dtype"),
        (object(), "object"),
        (np, "module"),
        (lambda x: x, "function"),
        (type("Liar", (int,), {})(3), r"number subclass \(Liar\)"),
        (np.zeros(3).view(type("Liar", (np.ndarray,), {})), r"ndarray subclass \(Liar\)"),
        ({1: {2: iter([])}}, "iterator"),
    ],
)
def test_anything_else_is_refused_by_name(value, named: str) -> None:
    """Subclasses, objects, modules and functions never cross; the message names them."""
    with pytest.raises(wire.Refused, match=named):
        wire.encode(value)


def test_arguments_come_back_as_references() -> None:
    """A result that is one of the call's arguments is that argument on the other side."""
    arg = np.zeros(3)
    header, buffers = wire.encode([1, arg], keep={id(arg): 0})
    mine = np.ones(3)
    back = wire.decode(header, buffers, args=[mine])
    assert back[1] is mine


@pytest.mark.parametrize(
    "header, buffers, problem",
    [
        ({"$": "ndarray", "dtype": "|O", "shape": [1], "buf": 0}, [b"12345678"], "dtype"),
        ({"$": "ndarray", "dtype": "<f8", "shape": [2], "buf": 0}, [b"12345678"], "shape"),
        ({"$": "ndarray", "dtype": "<f8", "shape": [1], "buf": 3}, [b"12345678"], "buffer"),
        ({"$": "ndarray", "dtype": "<f8", "shape": [-1], "buf": 0}, [b"12345678"], "shape"),
        ({"$": "pickle", "data": "x"}, [], "unknown tag"),
        ({"no": "tag"}, [], "untagged"),
        ({"$": "int", "s": "1e9"}, [], "integer"),
        ({"$": "arg", "i": 0}, [], "argument"),
        ({"$": "dict", "items": [[[1], 2]]}, [], "hashed"),
        ({"$": "keras", "config": "{}"}, [], "not a Keras object"),
        (
            {"$": "keras", "config": '{"module": "os", "class_name": "system", "config": {}}'},
            [],
            "naming the module 'os'",
        ),
    ],
)
def test_malformed_data_is_refused_before_it_is_built(header, buffers, problem: str) -> None:
    """Every tag, dtype, shape, reference and size is checked; nothing is evaluated."""
    with pytest.raises(wire.WireError, match=problem):
        wire.decode(header, buffers)


def test_nesting_and_size_are_bounded() -> None:
    """Deep nesting, too many values and oversized messages are refused."""
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested"):
        wire.decode(deep, [])
    with pytest.raises(wire.WireError, match="too many"):
        wire.decode(list(range(50)), [], wire.Limits(max_items=10))
    left, right = socket.socketpair()
    with left, right:
        wire.send(left, {"x": 1}, [b"a" * 5000])
        with pytest.raises(wire.WireError, match="larger than"):
            wire.receive(right, wire.Limits(max_bytes=1000))
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"\x00\x00\x00\x00\x00\x00\x00\x05[[[[[")
        with pytest.raises(wire.WireError, match="JSON"):
            wire.receive(right)


def test_messages_cross_a_socket_whole() -> None:
    """send/receive carry a header and its buffers, large ones included."""
    value = {"big": np.arange(3_000_000, dtype=np.float32), "small": [1, "two"]}
    left, right = socket.socketpair()
    with left, right:
        import threading

        header, buffers = wire.encode(value)
        writer = threading.Thread(target=wire.send, args=(left, header, buffers))
        writer.start()
        back = wire.decode(*wire.receive(right))
        writer.join()
    np.testing.assert_array_equal(back["big"], value["big"])
    assert back["small"] == [1, "two"]


@pytest.mark.slow
def test_keras_objects_cross_as_configuration_in_safe_mode(tmp_path: pathlib.Path) -> None:
    """Models keep weights and compile settings; callbacks and History their settings;
    a Lambda layer (code) is refused by Keras' safe mode."""
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    schedule = keras.optimizers.schedules.ExponentialDecay(2e-3, decay_steps=10, decay_rate=0.5)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy")
    back = _roundtrip(model)
    for mine, theirs in zip(back.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert isinstance(back.optimizer, keras.optimizers.Adam)
    assert back.optimizer.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"
    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=7, restore_best_weights=True
    )
    save = keras.callbacks.ModelCheckpoint(tmp_path / "m.keras", save_best_only=True)
    stop_back, save_back = _roundtrip([stop, save])
    assert (stop_back.monitor, stop_back.patience, stop_back.restore_best_weights) == (
        "val_accuracy", 7, True,
    )  # fmt: skip
    assert save_back.save_best_only and str(save_back.filepath) == str(tmp_path / "m.keras")
    history = keras.callbacks.History()
    history.history = {"loss": [1.0, 0.5]}
    assert _roundtrip(history).history == {"loss": [1.0, 0.5]}
    with pytest.raises(wire.Refused, match="TensorBoard"):
        wire.encode(keras.callbacks.TensorBoard())
    code = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: x * 2)])
    with pytest.raises((wire.Refused, wire.WireError)):
        _roundtrip(code)


def test_what_cannot_cross_from_the_learner_becomes_a_named_placeholder() -> None:
    """The learner's side sends a placeholder: the test sees the type's name, nothing more."""

    class EagerTensor:
        pass

    class ndarray:  # a learner's class posing as NumPy's
        pass

    header, buffers = wire.encode([1, EagerTensor(), ndarray()], foreign=True)
    one, tensor, impostor = wire.decode(json.loads(json.dumps(header)), buffers)
    assert one == 1
    assert not isinstance(tensor, np.ndarray) and type(tensor).__name__ == "EagerTensor"
    assert type(impostor).__name__.endswith(".ndarray"), "a crossing type's name is not taken"
    for use in (
        lambda: tensor.shape,
        lambda: tensor == 0,
        lambda: bool(tensor),
        lambda: len(tensor),
    ):
        with pytest.raises(AssertionError, match="EagerTensor object, which cannot be checked"):
            use()
    assert "cannot be checked" in repr(tensor)


def test_a_value_posing_as_plain_data_is_reported() -> None:
    """An ndarray or int subclass is a placeholder, and reported so the grader can flag it."""
    liar = np.arange(3).view(type("Liar", (np.ndarray,), {}))
    header, buffers = wire.encode({"a": liar, "b": True, "c": np.float64(1.5)}, foreign=True)
    posing: list[str] = []
    back = wire.decode(json.loads(json.dumps(header)), buffers, posing=posing)
    assert posing == ["an ndarray subclass (Liar)"]
    assert type(back["a"]).__name__ == "Liar" and not isinstance(back["a"], np.ndarray)
    assert back["b"] is True and type(back["c"]) is np.float64
