"""Plain data across the grading channel: what may cross, and how it is checked.

The tests of a graded notebook run in a trusted process; the learner's functions run
in the sandboxed kernel (:mod:`~fmnist_utils.grading.bridge`). Between the two only
*data* crosses, never a live object of the other side:

- ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``;
- NumPy arrays and scalars of a bool, integer, float, complex or fixed-width text
  dtype (never an object or structured dtype, never a subclass);
- lists, tuples and dicts of those;
- a few records that are data in all but name: ``pathlib`` paths, Pillow images (mode,
  size and pixels), a NumPy ``Generator`` (its state), ``np.poly1d`` (its coefficients),
  a NumPy ufunc (its name), and, towards the learner only, a function of the learner's
  notebook (its name: a test passing ``loss_at`` on to ``slope``);
- Keras objects as their configuration (and weights), rebuilt with Keras' safe mode
  (:mod:`~fmnist_utils.grading.keras_wire`):
  models and layers (a model's compile settings too), learning-rate schedules,
  optimizers and losses, a ``History`` (its numbers), ``EarlyStopping`` and
  ``ModelCheckpoint`` (their settings); the stand-in model ``standins.RecordingModel``.

Anything else is refused: :func:`encode` raises :class:`Refused` naming the type, and
the trusted side turns that into a failed test that says what came back.

On the wire a message is a JSON header and a list of binary buffers (array data),
each prefixed with its length (:func:`send`, :func:`receive`). :func:`decode` never
evaluates anything: it checks every tag, dtype, shape and size against the header and
the limits before building a value. Nothing runs at import time.
"""

from __future__ import annotations

import builtins
import json
import pathlib
import re
import socket
import struct
import sys
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Foreign",
    "Limits",
    "Refused",
    "WireError",
    "decode",
    "describe",
    "encode",
    "foreign",
    "receive",
    "send",
]

_DTYPE = re.compile(r"^[<>|=]?(?:b1|[iu][1248]|f[248]|c(?:8|16)|U\d{1,4})$")
_IMAGE_MODES = {"1", "L", "LA", "I", "F", "RGB", "RGBA", "I;16"}
_HEADER = struct.Struct("!Q")


class WireError(ValueError):
    """A message that breaks the format or the limits (it is not decoded)."""


class Refused(TypeError):
    """A value of a type that may not cross."""


@dataclass(frozen=True)
class Limits:
    """How much one message may carry.

    Attributes
    ----------
    max_bytes : int
        Header and buffers together.
    max_items : int
        Values in the header (containers' items counted one by one).
    max_depth : int
        Nesting of containers.
    """

    max_bytes: int = 512 * 2**20
    max_items: int = 200_000
    max_depth: int = 32


def describe(value: Any) -> str:
    """Name a value's type the way a learner would recognise it (``numpy.matrix``)."""
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


_PLAIN_BASES = (
    ("ndarray", "numpy", "ndarray"),
    ("bool", "builtins", "bool"),
    ("number", "builtins", "int"),
    ("number", "builtins", "float"),
    ("number", "builtins", "complex"),
    ("str", "builtins", "str"),
    ("bytes", "builtins", "bytes"),
    ("list", "builtins", "list"),
    ("tuple", "builtins", "tuple"),
    ("dict", "builtins", "dict"),
)


def _posing(value: Any) -> str | None:
    """Name the plain type ``value`` subclasses without being it (a learner's lie), or None."""
    kind = type(value)
    if kind is bool:  # an int subclass, and plain data itself
        return None
    for name, module, base in _PLAIN_BASES:
        if module == "numpy":
            numpy = sys.modules.get("numpy")
            if numpy is not None and isinstance(value, numpy.ndarray) and kind is not numpy.ndarray:
                return name
        elif isinstance(value, getattr(builtins, base)) and kind is not getattr(builtins, base):
            if kind.__module__ != "numpy":  # NumPy's own scalars are plain data
                return name
    return None


class _Encoder:
    def __init__(self, keep: dict[int, int] | None, foreign: bool = False) -> None:
        self.buffers: list[bytes] = []
        self.keep = keep or {}
        self.foreign = foreign

    def buffer(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def array(self, value: Any) -> dict[str, Any]:

        if value.dtype.hasobject or value.dtype.fields or not _DTYPE.match(value.dtype.str):
            raise Refused(f"a NumPy array of dtype {value.dtype}")
        data = value if value.flags.c_contiguous else value.copy(order="C")  # keeps 0-d
        return {
            "$": "ndarray",
            "dtype": data.dtype.str,
            "shape": list(data.shape),
            "buf": self.buffer(data.tobytes()),
        }

    def value(self, value: Any, depth: int = 0) -> Any:
        if not self.foreign:
            return self.plain(value, depth)
        try:
            return self.plain(value, depth)
        except Refused as error:  # this value only; its container still crosses
            kind = type(value)
            return {
                "$": "foreign",
                "type": str(getattr(kind, "__name__", "object"))[:100],
                "module": str(getattr(kind, "__module__", ""))[:100],
                "what": str(error)[:300],
                "posing": _posing(value) is not None,
            }

    def plain(self, value: Any, depth: int = 0) -> Any:
        if depth > 32:
            raise Refused("containers nested more than 32 deep")
        posing = _posing(value)
        if posing is not None:
            raise Refused(
                f"{'an' if posing == 'ndarray' else 'a'} {posing} subclass ({type(value).__name__})"
            )
        kind = type(value)
        if value is None or kind in (bool, str):
            return value
        if kind is int:
            return value if abs(value) < 2**53 else {"$": "int", "s": str(value)}
        if kind is float:
            return (
                value
                if value == value and abs(value) != float("inf")
                else {"$": "float", "s": repr(value)}
            )
        if kind is complex:
            return {"$": "complex", "re": self.value(value.real), "im": self.value(value.imag)}
        if kind is bytes:
            return {"$": "bytes", "buf": self.buffer(value)}
        if id(value) in self.keep:
            return {"$": "arg", "i": self.keep[id(value)]}
        if kind is list:
            return [self.value(item, depth + 1) for item in value]
        if kind is tuple:
            return {"$": "tuple", "items": [self.value(item, depth + 1) for item in value]}
        if kind is dict:
            return {
                "$": "dict",
                "items": [
                    [self.value(k, depth + 1), self.value(v, depth + 1)] for k, v in value.items()
                ],
            }
        module = kind.__module__.split(".")[0]
        if module == "numpy":
            return self.numpy(value)
        if isinstance(value, pathlib.PurePath) and module == "pathlib":
            return {"$": "path", "s": str(value)}
        if module == "PIL" and hasattr(value, "tobytes") and hasattr(value, "mode"):
            if value.mode not in _IMAGE_MODES:
                raise Refused(f"a Pillow image in mode {value.mode!r}")
            return {
                "$": "image",
                "mode": value.mode,
                "size": list(value.size),
                "buf": self.buffer(value.tobytes()),
            }
        if module == "keras":
            from fmnist_utils.grading import keras_wire

            return keras_wire.encode(value, self)
        if module == "fmnist_utils" and kind.__qualname__ == "LearnerFunction":
            return {"$": "function", "name": str(value.__name__)}
        if module == "fmnist_utils" and kind.__qualname__ == "RecordingModel":
            return {
                "$": "recording_model",
                "probs": self.array(value.probs),
                "seen": [self.value(item, depth + 1) for item in value.seen],
            }
        raise Refused(f"a {describe(value)} object")

    def numpy(self, value: Any) -> Any:
        import numpy as np

        kind = type(value)
        if kind is np.ndarray:
            return self.array(value)
        if (
            isinstance(value, np.generic)
            and kind.__module__ == "numpy"
            and not isinstance(value, np.void)
        ):
            return {"$": "npscalar", "array": self.array(np.asarray(value).reshape(1))}
        if kind is np.poly1d:
            return {"$": "poly1d", "coeffs": self.array(np.asarray(value.coeffs))}
        if kind is np.ufunc and getattr(np, value.__name__, None) is value:
            return {"$": "ufunc", "name": value.__name__}
        if kind is np.random.Generator:
            state = value.bit_generator.state
            if state.get("bit_generator") != "PCG64":
                raise Refused(f"a NumPy Generator using {state.get('bit_generator')}")
            return {"$": "generator", "state": json.dumps(state)}
        raise Refused(f"a {describe(value)} object")


def encode(
    value: Any, keep: dict[int, int] | None = None, foreign: bool = False
) -> tuple[Any, list[bytes]]:
    """Turn a value into a JSON-able header and binary buffers.

    Parameters
    ----------
    value : object
        What to send.
    keep : dict, optional
        ``id(obj) -> i`` for objects the other side already holds (a call's
        arguments): they cross as a reference to argument ``i``.
    foreign : bool, optional
        Send a value that may not cross as a placeholder naming its type (see
        :func:`foreign`) instead of refusing the whole message: the learner's side.

    Returns
    -------
    header, buffers
        The tree of tagged values, and the array data it refers to.

    Raises
    ------
    Refused
        For a value, anywhere inside, that may not cross (unless ``foreign``).
    """
    encoder = _Encoder(keep, foreign)
    return encoder.value(value), encoder.buffers


class _Decoder:
    def __init__(self, buffers: list[bytes], limits: Limits, args: list[Any] | None) -> None:
        self.functions: dict[str, Any] = {}  # the learner's names, on the learner's side only
        self.buffers = buffers
        self.limits = limits
        self.items = 0
        self.args = args or []
        self.posing: list[str] = []

    def buffer(self, tree: dict[str, Any]) -> bytes:
        index = tree.get("buf")
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise WireError("a buffer reference out of range")
        return self.buffers[index]

    def array(self, tree: Any) -> Any:
        import numpy as np

        if type(tree) is not dict or tree.get("$") != "ndarray":
            raise WireError("an array was expected")
        dtype, shape = tree.get("dtype"), tree.get("shape")
        if type(dtype) is not str or not _DTYPE.match(dtype):
            raise WireError(f"an array dtype that may not cross: {dtype!r:.40}")
        if (
            type(shape) is not list
            or len(shape) > 32
            or any(type(n) is not int or n < 0 for n in shape)
        ):
            raise WireError("an invalid array shape")
        data = self.buffer(tree)
        kind = np.dtype(dtype)
        count = 1
        for n in shape:
            count *= n
        if count * kind.itemsize != len(data):
            raise WireError("an array whose data does not match its shape")
        return np.frombuffer(data, dtype=kind).reshape(shape).copy()

    def value(self, tree: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > self.limits.max_items or depth > self.limits.max_depth:
            raise WireError("too many values, or nested too deep")
        kind = type(tree)
        if tree is None or kind in (bool, int, float, str):
            return tree
        if kind is list:
            return [self.value(item, depth + 1) for item in tree]
        if kind is not dict or type(tree.get("$")) is not str:
            raise WireError("an untagged value")
        tag = tree["$"]
        if tag == "int":
            text = tree.get("s")
            if type(text) is not str or not re.fullmatch(r"-?\d{1,4300}", text):
                raise WireError("an invalid integer")
            return int(text)
        if tag == "float":
            text = tree.get("s")
            if text not in ("nan", "inf", "-inf"):
                raise WireError("an invalid float")
            return float(text)
        if tag == "complex":
            real, imag = (
                self.value(tree.get("re"), depth + 1),
                self.value(tree.get("im"), depth + 1),
            )
            if type(real) is not float or type(imag) is not float:
                raise WireError("an invalid complex number")
            return complex(real, imag)
        if tag == "bytes":
            return bytes(self.buffer(tree))
        if tag == "tuple":
            return tuple(self.value(item, depth + 1) for item in self.list(tree))
        if tag == "dict":
            out = {}
            for pair in self.list(tree):
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("an invalid dict item")
                key = self.value(pair[0], depth + 1)
                try:
                    out[key] = self.value(pair[1], depth + 1)
                except TypeError:
                    raise WireError("a dict key that cannot be hashed") from None
            return out
        if tag == "arg":
            index = tree.get("i")
            if type(index) is not int or not 0 <= index < len(self.args):
                raise WireError("a reference to an argument that was not given")
            return self.args[index]
        if tag == "ndarray":
            return self.array(tree)
        if tag == "npscalar":
            return self.array(tree.get("array"))[0]
        if tag == "path":
            text = tree.get("s")
            if type(text) is not str or "\0" in text:
                raise WireError("an invalid path")
            return pathlib.Path(text)
        if tag == "image":
            return self.image(tree)
        if tag == "generator":
            return self.generator(tree)
        if tag in ("poly1d", "ufunc", "function"):
            return self.callable(tag, tree)
        if tag.startswith("keras"):
            from fmnist_utils.grading import keras_wire

            return keras_wire.decode(tree, self, depth)
        if tag == "foreign":
            what = str(tree.get("what", ""))[:300]
            if tree.get("posing") is True:
                self.posing.append(what)
            return foreign(str(tree.get("type", "")), str(tree.get("module", "")), what)
        if tag == "recording_model":
            from fmnist_utils.standins import RecordingModel

            model = RecordingModel(self.array(tree.get("probs")))
            model.seen = [self.array(item) for item in self.list(tree, "seen")]
            return model
        raise WireError(f"an unknown tag {tag!r:.40}")

    def callable(self, tag: str, tree: dict[str, Any]) -> Any:
        import numpy as np

        if tag == "poly1d":
            coeffs = self.array(tree.get("coeffs"))
            if coeffs.ndim != 1 or not 0 < coeffs.size <= 64 or coeffs.dtype.kind not in "iuf":
                raise WireError("an invalid polynomial")
            return np.poly1d(coeffs)
        name = tree.get("name")
        where = self.functions if tag == "function" else vars(np)
        found = where.get(name) if type(name) is str else None
        if not callable(found) or (tag == "ufunc" and not isinstance(found, np.ufunc)):
            raise WireError(f"a {tag} that is not there: {name!r:.40}")
        return found

    def list(self, tree: dict[str, Any], key: str = "items") -> list[Any]:
        items = tree.get(key)
        if type(items) is not list:
            raise WireError(f"an invalid {tree.get('$')}")
        return items

    def image(self, tree: dict[str, Any]) -> Any:
        from PIL import Image

        mode, size = tree.get("mode"), tree.get("size")
        if mode not in _IMAGE_MODES or type(size) is not list or len(size) != 2:
            raise WireError("an invalid image")
        if any(type(n) is not int or not 0 < n <= 2**15 for n in size):
            raise WireError("an invalid image size")
        try:
            return Image.frombytes(mode, tuple(size), self.buffer(tree))
        except ValueError as error:
            raise WireError(f"an invalid image ({error})") from None

    def generator(self, tree: dict[str, Any]) -> Any:
        import numpy as np

        try:
            state = json.loads(tree.get("state") or "")
            bits = np.random.PCG64()
            if type(state) is not dict or state.get("bit_generator") != "PCG64":
                raise ValueError("not PCG64")
            bits.state = state
        except (ValueError, TypeError, KeyError) as error:
            raise WireError(f"an invalid random generator ({error})") from None
        return np.random.Generator(bits)


class Foreign:
    """Stands for a value that could not cross; any use of it fails the test.

    Its type keeps the name of the learner's type, so a test that checks the type
    first (``isinstance(x, np.ndarray)``, then ``type(x).__name__`` in its message) says
    what it says in the learner's own kernel.
    """

    def __init__(self, what: str) -> None:
        object.__setattr__(
            self,
            "_message",
            f"{what}, which cannot be checked: use plain data (NumPy arrays, numbers, strings, "
            "lists, tuples, dicts) or a Keras model",
        )

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(object.__getattribute__(self, "_message"))

    __getattr__ = __setattr__ = __call__ = __getitem__ = __iter__ = __len__ = _fail
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _fail  # type: ignore[assignment]
    __add__ = __sub__ = __mul__ = __truediv__ = __bool__ = __float__ = __int__ = _fail
    __array__ = __contains__ = __index__ = _fail
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} that cannot be checked>"


# Names of types that do cross: a foreign type never takes one of them.
_CROSSING = {
    "NoneType", "bool", "int", "float", "complex", "str", "bytes", "list", "tuple", "dict",
    "ndarray", "Path", "PosixPath", "Image", "Generator", "History", "RecordingModel",
}  # fmt: skip


def foreign(type_name: str, module: str, what: str) -> Foreign:
    """Return a :class:`Foreign` whose type is named after the learner's type.

    Parameters
    ----------
    type_name, module : str
        The learner's type and its module (as sent: unchecked text).
    what : str
        What it was (``a tensorflow...EagerTensor object``).

    Returns
    -------
    Foreign
        An instance of a new subclass named ``type_name``; ``module.type_name`` where
        the short name is not an identifier or is that of a type that crosses.
    """
    name = type_name if type_name.isidentifier() and type_name not in _CROSSING else ""
    name = name or f"{module}.{type_name}".strip(".") or "object"
    kind = type(name[:200], (Foreign,), {"__module__": "learner"})
    return kind(what[:300] or "a value")


def decode(
    header: Any,
    buffers: list[bytes],
    limits: Limits | None = None,
    args: list[Any] | None = None,
    posing: list[str] | None = None,
    functions: dict[str, Any] | None = None,
) -> Any:
    """Build a value from a header and buffers made by :func:`encode`, checking everything.

    Parameters
    ----------
    header : object
        The JSON tree.
    buffers : list of bytes
        The binary data it refers to.
    limits : Limits, optional
        The bounds on what is built.
    args : list, optional
        The objects an ``arg`` reference may name (the call's arguments).
    posing : list, optional
        Gets what each placeholder of a value that posed as plain data was
        (``an ndarray subclass (Liar)``): a learner's attempt to fool a check.
    functions : dict, optional
        The names a ``function`` reference may name: the learner's namespace, given
        only by the learner's side. Without it, such a reference is refused.

    Returns
    -------
    object
        The value.

    Raises
    ------
    WireError
        For anything the format or the limits do not allow.
    """
    decoder = _Decoder(buffers, limits or Limits(), args)
    decoder.functions = functions or {}
    value = decoder.value(header)
    if posing is not None:
        posing.extend(decoder.posing)
    return value


def send(sock: socket.socket, header: Any, buffers: list[bytes] = ()) -> None:  # type: ignore[assignment]
    """Write one message: a JSON header, then its buffers, each with its length."""
    head = json.dumps({"head": header, "n": len(buffers)}).encode()
    sock.sendall(_HEADER.pack(len(head)) + head)
    for data in buffers:
        sock.sendall(_HEADER.pack(len(data)))
        sock.sendall(data)


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 2**20))
        if not chunk:
            raise WireError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket, limits: Limits | None = None) -> tuple[Any, list[bytes]]:
    """Read one message written by :func:`send`, within ``limits``.

    Returns
    -------
    header, buffers

    Raises
    ------
    WireError
        When the message is malformed or larger than allowed.
    """
    limits = limits or Limits()
    total = 0

    def sized() -> bytes:
        nonlocal total
        (size,) = _HEADER.unpack(_exactly(sock, _HEADER.size))
        total += size
        if total > limits.max_bytes:
            raise WireError(f"a message larger than {limits.max_bytes // 2**20} MiB")
        return _exactly(sock, size)

    try:
        message = json.loads(sized())
    except (ValueError, RecursionError) as error:  # (UnicodeDecodeError, JSONDecodeError)
        raise WireError(f"a header that is not valid JSON ({error})") from None
    if type(message) is not dict or type(message.get("n")) is not int or message["n"] < 0:
        raise WireError("an invalid header")
    buffers = [sized() for _ in range(message["n"])]
    return message.get("head"), buffers
