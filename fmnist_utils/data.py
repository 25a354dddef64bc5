"""Load and verify the Fashion-MNIST data (CSV files: :mod:`fmnist_utils.csvfiles`).

:func:`load_fashion_mnist` returns exactly what ``keras.datasets.fashion_mnist.load_data()``
returns, but finds the four ``.gz`` files without the network when it can, checks every
one of them, and explains what to do when something is wrong.

Where the files are looked for, in this order:

1. the ``data_dir`` argument;
2. the ``FMNIST_DATA_DIR`` environment variable;
3. Keras' cache, ``$KERAS_HOME/datasets/fashion-mnist`` (``~/.keras/...`` by default);
4. the Debian/Ubuntu package ``dataset-fashion-mnist`` (:data:`OS_DATA_DIR`);
5. the network: each of :data:`MIRRORS` in turn, into Keras' cache.

A folder named explicitly (1 or 2) is the only place looked at: missing files are
downloaded into it, and a bad file there is an error, never a reason to use another copy.
Keras' cache and the package folder count only when all four files are there. Data found
only in the package folder is also copied into Keras' cache, so that the stock
``keras.datasets.fashion_mnist.load_data()`` works offline afterwards.

Every file is checked on every load: its decompressed content must have the length and
SHA-256 in :data:`CHECKSUMS`. A bad file raises :class:`DataError` (a ``ValueError``);
no data at all raises :class:`DataNotFoundError` (a :class:`DataError` and a
``FileNotFoundError``), whose message lists the three ways to get the data.

The CSV reader and writer live in :mod:`fmnist_utils.csvfiles` (the lessons import
them from there), and downloads in :mod:`fmnist_utils.download`.

Nothing here runs at import time, and Keras is never imported.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import warnings
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .download import fetch
from .files import atomic_write

__all__ = [
    "CHECKSUMS",
    "CLASS_NAMES",
    "DATA_DIR_ENV",
    "DataError",
    "DataNotFoundError",
    "DownloadError",
    "FILES",
    "MIRRORS",
    "OS_DATA_DIR",
    "data_source",
    "keras_cache_dir",
    "load_fashion_mnist",
    "read_idx",
    "verify_file",
]

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""The ten class names, in label order: ``CLASS_NAMES[y]`` names label ``y``."""

FILES: tuple[str, str, str, str] = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
"""The four files, under the names Zalando, Keras and Debian all use."""

MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)
"""Base URLs tried in order when the files must be downloaded (Zalando's, then Keras')."""

OS_DATA_DIR: Path = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's ``dataset-fashion-mnist`` package installs the files (read at each call)."""

DATA_DIR_ENV = "FMNIST_DATA_DIR"
"""The environment variable naming a folder that holds the four files."""

CHECKSUMS: dict[str, tuple[int, str]] = {
    "train-images-idx3-ubyte.gz": (
        47_040_016,
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    "train-labels-idx1-ubyte.gz": (
        60_008,
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    "t10k-images-idx3-ubyte.gz": (
        7_840_016,
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        10_008,
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
}
"""Length and SHA-256 of each file's *decompressed* content.

The compressed archives differ between copies (Debian re-compressed them), so only
the decompressed bytes are compared.
"""

DOWNLOAD_TIMEOUT: float = 30.0
"""Seconds to wait for a mirror to answer (per connection attempt and per read)."""

_IDX_IMAGES = 0x00000803
_IDX_LABELS = 0x00000801
_GZIP_MAGIC = b"\x1f\x8b"
_PACKAGE = "dataset-fashion-mnist"


class DataError(ValueError):
    """A data file is missing, corrupt, truncated or not what it should be."""


class DataNotFoundError(DataError, FileNotFoundError):
    """The Fashion-MNIST files are nowhere to be found and could not be downloaded.

    It is both a :class:`DataError` (so a ``ValueError``) and a ``FileNotFoundError``;
    its message lists the three ways to get the data.
    """


class DownloadError(DataNotFoundError):
    """Every mirror failed for a file; the message says what happened at each one."""


# --------------------------------------------------------------------------- IDX files


def _decompress(raw: bytes, path: Path) -> bytes:
    """Decompress a whole gzip file held in memory, or raise DataError naming it."""
    dec = zlib.decompressobj(31)  # 31: gzip wrapper; checks the CRC-32 and the length
    try:
        out = dec.decompress(raw)
    except zlib.error as exc:
        raise DataError(f"{path}: corrupt gzip data ({exc}).") from exc
    if not dec.eof:
        raise DataError(f"{path}: the gzip data is truncated (the file ends too early).")
    if dec.unused_data:  # several gzip members, or junk after the first one
        try:
            out = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: unexpected data after the gzip stream ({exc}).") from exc
    return out


def _parse_idx(buf: bytes, path: Path) -> np.ndarray:
    """Parse IDX bytes (uint8 images or labels) into a new writable array."""
    if len(buf) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(buf)} bytes).")
    magic = int.from_bytes(buf[:4], "big")
    if magic not in (_IDX_IMAGES, _IDX_LABELS):
        raise DataError(
            f"{path}: not an IDX file of unsigned bytes: magic number 0x{magic:08X}, "
            f"expected 0x{_IDX_IMAGES:08X} (images) or 0x{_IDX_LABELS:08X} (labels)."
        )
    ndim = buf[3]
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DataError(
            f"{path}: truncated IDX header: {len(buf)} bytes, expected at least {header} "
            f"for {ndim} dimension(s)."
        )
    shape = tuple(int(d) for d in np.frombuffer(buf, ">u4", count=ndim, offset=4))
    if ndim == 3 and shape[1:] != (28, 28):
        raise DataError(f"{path}: images are {shape[1]}x{shape[2]} pixels, expected 28x28.")
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(buf) != expected:
        problem = "truncated" if len(buf) < expected else "longer than its header says"
        raise DataError(
            f"{path}: payload length does not match the dimensions {shape}: the file has "
            f"{len(buf)} bytes, the header implies {expected} ({problem})."
        )
    return np.frombuffer(buf, np.uint8, offset=header).reshape(shape).copy()


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file of images or labels, gzip-compressed or not.

    Parameters
    ----------
    path : str or path-like
        An IDX file (``...-idx3-ubyte`` images or ``...-idx1-ubyte`` labels), plain or
        ``.gz``; compression is recognised from the content, not the name.

    Returns
    -------
    numpy.ndarray
        ``uint8``, C-contiguous and writable: shape ``(n, rows, cols)`` for images,
        ``(n,)`` for labels.

    Raises
    ------
    DataError
        If the file is not valid gzip, has a wrong magic number, or its length does
        not match the dimensions in its header. The message names the file.
    """
    p = Path(path)
    raw = p.read_bytes()
    buf = _decompress(raw, p) if raw[:2] == _GZIP_MAGIC else raw
    return _parse_idx(buf, p)


def _advice(path: Path) -> str:
    """Say what to do about a bad data file, depending on where it lives."""
    try:
        in_package = path.resolve().parent == Path(OS_DATA_DIR).resolve()
    except OSError:
        in_package = False
    if in_package:
        return (
            f"The {_PACKAGE} package's copy is damaged: reinstall it with "
            f"`sudo apt-get install --reinstall {_PACKAGE}`."
        )
    return (
        f"Delete {path} and run load_fashion_mnist() again to download a fresh copy "
        "(or copy a good one there)."
    )


def _check_content(buf: bytes, path: Path, name: str, advice: str) -> None:
    """Compare decompressed content with the recorded length and SHA-256."""
    size, sha = CHECKSUMS[name]
    if len(buf) != size:
        raise DataError(
            f"{path}: wrong length: decompresses to {len(buf)} bytes, expected {size} "
            f"for {name} (the file is truncated or is not that file).{advice}"
        )
    got = hashlib.sha256(buf).hexdigest()
    if got != sha:
        raise DataError(
            f"{path}: checksum mismatch: the decompressed content has SHA-256 {got}, "
            f"expected {sha} for {name} (the file is corrupt).{advice}"
        )


def _read_verified(path: Path, name: str, advice: str | None = None) -> tuple[np.ndarray, bytes]:
    """Read, decompress, verify and parse one of :data:`FILES`; also return the raw bytes.

    ``advice`` ends every error message; by default it says what to do about ``path``.
    """
    advice = " " + _advice(path) if advice is None else advice
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        raise DataError(f"{path}: not a gzip file (it should be {name}).{advice}")
    try:
        buf = _decompress(raw, path)
    except DataError as exc:
        raise DataError(f"{exc}{advice}") from exc
    _check_content(buf, path, name, advice)
    return _parse_idx(buf, path), raw


def verify_file(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Check that a file is an intact copy of one of the four Fashion-MNIST files.

    Parameters
    ----------
    path : str or path-like
        The ``.gz`` file to check.
    name : str, optional
        Which of :data:`FILES` it should be; by default the file's own name.

    Raises
    ------
    DataError
        If the file is not valid gzip, or its decompressed content has the wrong
        length or SHA-256. The message names the file and says what to do.
    KeyError
        If ``name`` is not one of :data:`FILES`.
    """
    p = Path(path)
    key = name if name is not None else p.name
    if key not in CHECKSUMS:
        raise KeyError(f"{key!r} is not one of the Fashion-MNIST files {FILES}")
    _read_verified(p, key)


# --------------------------------------------------------------------------- locations


def keras_cache_dir() -> Path:
    """Return the folder where Keras keeps Fashion-MNIST.

    Returns
    -------
    pathlib.Path
        ``$KERAS_HOME/datasets/fashion-mnist`` when ``KERAS_HOME`` is set, else
        ``~/.keras/datasets/fashion-mnist`` (``/tmp/.keras/...`` when the home folder
        is not writable, as Keras does). The folder may not exist yet.
    """
    home = os.environ.get("KERAS_HOME")
    if home:
        base = Path(home).expanduser()
    else:
        user = Path("~").expanduser()
        base = (user if os.access(user, os.W_OK) else Path("/tmp")) / ".keras"
    return base / "datasets" / "fashion-mnist"


def _complete(folder: Path) -> bool:
    """Tell whether all four files are in ``folder``."""
    return all((folder / name).is_file() for name in FILES)


def _how_to_get_it() -> str:
    """Spell out the three ways to get the data."""
    listed = ", ".join(FILES)
    return (
        "Get the data in one of three ways:\n"
        f"  1. Debian/Ubuntu: sudo apt-get install {_PACKAGE}\n"
        f"  2. Set the environment variable {DATA_DIR_ENV} to a folder holding the four "
        f"files ({listed}).\n"
        "  3. Run load_fashion_mnist() once with a network connection: it downloads the "
        f"files into {keras_cache_dir()}."
    )


# --------------------------------------------------------------------------- download


def _fetch(url: str, out: BinaryIO, label: str) -> None:
    """Stream ``url`` into ``out`` with a progress bar; a short read is a :class:`DataError`."""
    received, total = fetch(url, out, label, timeout=DOWNLOAD_TIMEOUT)
    if total and received != total:
        raise DataError(f"connection closed after {received} of {total} bytes")


def _download(
    name: str, folder: Path, mirrors: Sequence[str], dead: set[str], report: list[str]
) -> bool:
    """Download one file into ``folder`` from the first mirror that gives a good copy.

    The file is written to a temporary name in ``folder``, verified, then renamed, so a
    failed or interrupted download never leaves a file under the real name. Mirrors that
    cannot be reached at all are added to ``dead`` and skipped for the next files.
    """
    for base in mirrors:
        url = base if base.endswith("/") else base + "/"
        url += name
        if base in dead:
            report.append(f"{url}: skipped (the mirror was unreachable for a previous file)")
            continue
        try:
            atomic_write(
                folder / name,
                lambda out, url=url: _fetch(url, out, name),
                check=lambda tmp: _check_download(tmp, name),
            )
            return True
        except urllib.error.HTTPError as exc:
            report.append(f"{url}: HTTP error {exc.code} {exc.reason}")
        except urllib.error.URLError as exc:
            report.append(f"{url}: cannot connect ({exc.reason})")
            dead.add(base)
        except DataError as exc:
            report.append(f"{url}: downloaded but rejected: {exc}")
        except (OSError, ValueError) as exc:  # timeouts, resets, bad URLs
            report.append(f"{url}: {type(exc).__name__}: {exc}")
            if isinstance(exc, TimeoutError | ConnectionError):
                dead.add(base)
    return False


def _check_download(tmp: Path, name: str) -> None:
    """Verify a downloaded file; its error names the file, not the temporary name."""
    try:
        _read_verified(tmp, name, advice="")
    except DataError as exc:
        raise DataError(str(exc).replace(f"{tmp}: ", "")) from None


def _download_missing(folder: Path, mirrors: Sequence[str], why: str) -> None:
    """Download every one of :data:`FILES` that is not in ``folder`` yet.

    ``why`` opens any error message: where the data was looked for.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe, probe_name = tempfile.mkstemp(dir=folder, prefix=".write-test.")
        os.close(probe)
        os.unlink(probe_name)
    except OSError as exc:
        raise DownloadError(
            f"{why}\nIt cannot be downloaded into {folder}: {exc}. "
            f"Set {DATA_DIR_ENV} (or KERAS_HOME) to a writable folder.\n" + _how_to_get_it()
        ) from exc
    dead: set[str] = set()
    for name in FILES:
        if (folder / name).is_file():
            continue
        report: list[str] = []
        if not mirrors:
            report.append("no mirrors are configured")
        elif _download(name, folder, mirrors, dead, report):
            continue
        attempts = "\n".join(f"  - {line}" for line in report)
        raise DownloadError(
            f"{why}\nCould not download {name} into {folder}; every mirror failed:\n"
            f"{attempts}\n"
            "No broken or partial file was left behind.\n" + _how_to_get_it()
        )


# --------------------------------------------------------------------------- loading

_Split = tuple[np.ndarray, np.ndarray]


def _load_folder(folder: Path, keep_raw: bool = False) -> tuple[_Split, _Split, list[bytes]]:
    """Load and verify the four files in ``folder``."""
    arrays: list[np.ndarray] = []
    raws: list[bytes] = []
    for name in FILES:
        array, raw = _read_verified(folder / name, name)
        arrays.append(array)
        if keep_raw:
            raws.append(raw)
    x_train, y_train, x_test, y_test = arrays
    return (x_train, y_train), (x_test, y_test), raws


def _copy_to_cache(raws: Iterable[bytes], cache: Path) -> None:
    """Put verified bytes into Keras' cache atomically; skip quietly if it is not writable."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    for name, raw in zip(FILES, raws, strict=True):
        dest = cache / name
        if dest.exists():  # never replace a file we did not write; just say if it is bad
            try:
                _read_verified(dest, name)
            except (DataError, OSError) as exc:
                warnings.warn(
                    f"Keras' cached copy is bad and keras.datasets.fashion_mnist.load_data() "
                    f"would read it: {exc}",
                    stacklevel=3,
                )
            continue
        try:
            atomic_write(dest, lambda out, raw=raw: out.write(raw))
        except OSError:
            return


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST, verified, exactly as ``keras.datasets.fashion_mnist.load_data()``.

    Parameters
    ----------
    data_dir : str or path-like, optional
        A folder holding the four ``.gz`` files (:data:`FILES`). When given (or when
        ``FMNIST_DATA_DIR`` is set), it is the only place looked at: missing files are
        downloaded into it, and a bad file there raises :class:`DataError`. Otherwise
        Keras' cache, then :data:`OS_DATA_DIR`, then the network are tried.
    download : bool, default True
        Whether missing files may be downloaded.
    mirrors : sequence of str, optional
        Base URLs to download from, in order; default :data:`MIRRORS`.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuple of numpy.ndarray
        ``uint8`` arrays of shapes ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``
        and ``(10000,)``; C-contiguous and writable. Labels index :data:`CLASS_NAMES`.

    Raises
    ------
    DataError
        If a file is corrupt or truncated (the message names it and says what to do).
    DataNotFoundError
        If the data is nowhere and cannot be downloaded (the message lists the three
        ways to get it). :class:`DownloadError`, a subclass, reports every mirror's failure.
    """
    urls = tuple(MIRRORS if mirrors is None else mirrors)
    folder, source = data_source(data_dir)
    if source in ("data_dir", DATA_DIR_ENV):
        missing = [name for name in FILES if not (folder / name).is_file()]
        why = f"{folder} (from {source}) lacks {', '.join(missing)}"
        if missing and not download:
            raise DataNotFoundError(f"{why}, and download=False.\n" + _how_to_get_it())
        if missing:
            _download_missing(folder, urls, why + ".")
        train, test, _ = _load_folder(folder)
        return train, test
    if source == "os-package":
        train, test, raws = _load_folder(folder, keep_raw=True)
        _copy_to_cache(raws, keras_cache_dir())
        return train, test
    if source == "download":
        why = f"Fashion-MNIST is not in Keras' cache ({folder}) nor in {OS_DATA_DIR}"
        if not download:
            raise DataNotFoundError(f"{why}, and download=False.\n" + _how_to_get_it())
        _download_missing(folder, urls, why + ".")
    train, test, _ = _load_folder(folder)
    return train, test


def data_source(data_dir: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """Find where :func:`load_fashion_mnist` reads the data from, without reading it.

    The one search order of the course: ``data_dir``, ``FMNIST_DATA_DIR``, Keras'
    cache, :data:`OS_DATA_DIR`; else the cache, where the files would be downloaded.

    Parameters
    ----------
    data_dir : str or path-like, optional
        A folder named by the caller.

    Returns
    -------
    tuple of (pathlib.Path, str)
        The folder, and why it was chosen: ``"data_dir"``, ``"FMNIST_DATA_DIR"`` (a
        named folder, complete or not), ``"keras-cache"``, ``"os-package"`` (all four
        files there) or ``"download"`` (the data is nowhere yet).
    """
    if data_dir is not None:
        return Path(data_dir).expanduser(), "data_dir"
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser(), DATA_DIR_ENV
    cache = keras_cache_dir()
    if _complete(cache):
        return cache, "keras-cache"
    if _complete(Path(OS_DATA_DIR)):
        return Path(OS_DATA_DIR), "os-package"
    return cache, "download"
