"""Tests for fmnist_utils.data: the loader, its search order, verification and downloads.

No test reaches the network: every test runs with the mirrors pointed at a closed port on
127.0.0.1 unless it starts its own HTTP server there.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fmnist_utils import data
from fmnist_utils.data import (
    CLASS_NAMES,
    FILES,
    DataError,
    DataNotFoundError,
    DownloadError,
    keras_cache_dir,
    load_fashion_mnist,
    read_idx,
    verify_file,
)

REAL_DIR = data.OS_DATA_DIR  # the real package location, captured before any monkeypatching
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"


def _have_real_data() -> bool:
    return all((REAL_DIR / name).is_file() for name in FILES)


needs_real_data = pytest.mark.skipif(
    not _have_real_data(),
    reason=f"the real Fashion-MNIST files are not in {REAL_DIR}; "
    "install them with `sudo apt-get install dataset-fashion-mnist`",
)


def _closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens, so connecting fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every location the loader looks at into tmp_path, and the network nowhere."""
    monkeypatch.delenv("FMNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "OS_DATA_DIR", tmp_path / "no-package")
    monkeypatch.setattr(data, "MIRRORS", (_closed_port_url(),))
    return tmp_path


def _link_real(folder: Path, names: tuple[str, ...] = FILES) -> Path:
    """Fill ``folder`` with symbolic links to the real files (cheap, read-only)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).symlink_to(REAL_DIR / name)
    return folder


def _flipped_labels() -> bytes:
    """The real training labels with one byte of content changed, re-gzipped."""
    content = bytearray(gzip.decompress((REAL_DIR / TRAIN_LABELS).read_bytes()))
    content[1000] = (content[1000] + 1) % 10
    return gzip.compress(bytes(content), compresslevel=1)


def _leftovers(folder: Path) -> list[str]:
    """Temporary files left in a folder."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _check_arrays(train: tuple[np.ndarray, ...], test: tuple[np.ndarray, ...]) -> None:
    (x_train, y_train), (x_test, y_test) = train, test
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
        assert a.flags.c_contiguous and a.flags.writeable


# --------------------------------------------------------------------------- real data


@needs_real_data
def test_real_data_shapes_counts_and_checksums() -> None:
    train, test = load_fashion_mnist(REAL_DIR)
    _check_arrays(train, test)
    assert np.bincount(train[1], minlength=10).tolist() == [6000] * 10
    assert np.bincount(test[1], minlength=10).tolist() == [1000] * 10
    assert 0 < train[0].mean() < 255
    train[0][0, 0, 0] = 7  # learners may modify what they get
    for name in FILES:
        verify_file(REAL_DIR / name)
    assert len(CLASS_NAMES) == 10 and CLASS_NAMES[0] == "T-shirt/top"
    assert CLASS_NAMES[9] == "Ankle boot"


@needs_real_data
@pytest.mark.slow
def test_equals_keras_loader_after_cache_is_filled(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "OS_DATA_DIR", REAL_DIR)
    (ours_train, ours_test) = load_fashion_mnist()
    cache = isolated / "keras" / "datasets" / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)

    import keras  # slow: imports TensorFlow
    import keras.src.backend.config as keras_config

    # Keras reads KERAS_HOME once, at import; another test may have imported it first.
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(isolated / "keras"), raising=False)
    (kx_train, ky_train), (kx_test, ky_test) = keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(ours_train[0], kx_train)
    np.testing.assert_array_equal(ours_train[1], ky_train)
    np.testing.assert_array_equal(ours_test[0], kx_test)
    np.testing.assert_array_equal(ours_test[1], ky_test)


# --------------------------------------------------------------------------- search order


@needs_real_data
def test_data_dir_argument(isolated: Path) -> None:
    folder = _link_real(isolated / "mine")
    train, test = load_fashion_mnist(folder, download=False)
    _check_arrays(train, test)
    assert not (isolated / "keras").exists()  # an explicit folder is never copied


@needs_real_data
def test_env_var_and_argument_beats_it(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _link_real(isolated / "from-env")
    monkeypatch.setenv("FMNIST_DATA_DIR", str(folder))
    _check_arrays(*load_fashion_mnist(download=False))
    monkeypatch.setenv("FMNIST_DATA_DIR", str(isolated / "empty"))
    with pytest.raises(DataNotFoundError, match="from FMNIST_DATA_DIR"):
        load_fashion_mnist(download=False)
    _check_arrays(*load_fashion_mnist(folder, download=False))


@needs_real_data
def test_keras_home_cache(isolated: Path) -> None:
    cache = _link_real(isolated / "keras" / "datasets" / "fashion-mnist")
    assert keras_cache_dir() == cache
    _check_arrays(*load_fashion_mnist(download=False))


@needs_real_data
def test_default_keras_cache_under_home(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KERAS_HOME")
    (isolated / "home").mkdir()
    cache = _link_real(isolated / "home" / ".keras" / "datasets" / "fashion-mnist")
    assert keras_cache_dir() == cache
    _check_arrays(*load_fashion_mnist(download=False))


@needs_real_data
def test_os_package_copy_lands_in_keras_cache(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "OS_DATA_DIR", _link_real(isolated / "package"))
    _check_arrays(*load_fashion_mnist(download=False))
    cache = isolated / "keras" / "datasets" / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)  # no temporary files
    for name in FILES:
        assert not (cache / name).is_symlink()
        assert (cache / name).read_bytes() == (REAL_DIR / name).read_bytes()
    monkeypatch.setattr(data, "OS_DATA_DIR", isolated / "gone")  # now the cache suffices
    _check_arrays(*load_fashion_mnist(download=False))


@needs_real_data
def test_unwritable_keras_cache_still_loads(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = isolated / "not-a-folder"
    blocker.write_text("a file where KERAS_HOME should be a folder")
    monkeypatch.setenv("KERAS_HOME", str(blocker))
    monkeypatch.setattr(data, "OS_DATA_DIR", REAL_DIR)
    _check_arrays(*load_fashion_mnist(download=False))


@needs_real_data
def test_incomplete_keras_cache_is_skipped_and_completed(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _link_real(isolated / "keras" / "datasets" / "fashion-mnist", FILES[1:])
    monkeypatch.setattr(data, "OS_DATA_DIR", REAL_DIR)
    _check_arrays(*load_fashion_mnist(download=False))
    assert (cache / FILES[0]).is_file() and not (cache / FILES[0]).is_symlink()
    assert all((cache / name).is_symlink() for name in FILES[1:])  # left untouched


@needs_real_data
def test_bad_file_in_incomplete_keras_cache_is_kept_with_a_warning(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _link_real(isolated / "keras" / "datasets" / "fashion-mnist", FILES[2:3])
    (cache / TRAIN_LABELS).write_bytes(b"junk")
    monkeypatch.setattr(data, "OS_DATA_DIR", REAL_DIR)
    with pytest.warns(UserWarning, match="Keras' cached copy is bad") as record:
        _check_arrays(*load_fashion_mnist(download=False))
    assert f"{cache / TRAIN_LABELS}: not a gzip file" in str(record[0].message)
    assert (cache / TRAIN_LABELS).read_bytes() == b"junk"  # never replaced behind one's back
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)


@needs_real_data
def test_incomplete_package_folder_is_skipped(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "OS_DATA_DIR", _link_real(isolated / "package", FILES[:3]))
    with pytest.raises(DataNotFoundError) as info:
        load_fashion_mnist(download=False)
    assert "not in Keras' cache" in str(info.value)
    assert "sudo apt-get install dataset-fashion-mnist" in str(info.value)


@needs_real_data
@pytest.mark.parametrize("via_env", [False, True])
def test_bad_file_in_explicit_folder_never_falls_back(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, via_env: bool
) -> None:
    folder = _link_real(isolated / "mine", tuple(n for n in FILES if n != TRAIN_LABELS))
    (folder / TRAIN_LABELS).write_bytes(_flipped_labels())
    # Good copies everywhere else, which must NOT be used.
    _link_real(isolated / "keras" / "datasets" / "fashion-mnist")
    monkeypatch.setattr(data, "OS_DATA_DIR", REAL_DIR)
    if via_env:
        monkeypatch.setenv("FMNIST_DATA_DIR", str(folder))
    with pytest.raises(DataError) as info:
        load_fashion_mnist(None if via_env else folder)
    message = str(info.value)
    assert str(folder / TRAIN_LABELS) in message
    assert "checksum mismatch" in message and "SHA-256" in message
    assert f"Delete {folder / TRAIN_LABELS}" in message


@needs_real_data
def test_corrupt_keras_cache_raises(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = _link_real(isolated / "keras" / "datasets" / "fashion-mnist", FILES[:-1])
    good = (REAL_DIR / FILES[-1]).read_bytes()
    (cache / FILES[-1]).write_bytes(good[: len(good) // 2])
    monkeypatch.setattr(data, "OS_DATA_DIR", REAL_DIR)
    with pytest.raises(DataError, match="truncated") as info:
        load_fashion_mnist()
    assert str(cache / FILES[-1]) in str(info.value)
    assert "Delete" in str(info.value)


def test_corrupt_package_file_says_reinstall(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = isolated / "package"
    package.mkdir()
    for name in FILES:
        (package / name).write_bytes(b"not gzip at all")
    monkeypatch.setattr(data, "OS_DATA_DIR", package)
    with pytest.raises(DataError) as info:
        load_fashion_mnist(download=False)
    message = str(info.value)
    assert str(package / FILES[0]) in message and "not a gzip file" in message
    assert "sudo apt-get install --reinstall dataset-fashion-mnist" in message


# --------------------------------------------------------------------------- IDX parser


def _idx(magic: int, dims: tuple[int, ...], payload: int) -> bytes:
    head = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return head + (bytes(range(256)) * (payload // 256 + 1))[:payload]


def test_read_idx_plain_and_gzip(tmp_path: Path) -> None:
    raw = _idx(0x803, (3, 28, 28), 3 * 784)
    (tmp_path / "a-idx3-ubyte").write_bytes(raw)
    (tmp_path / "a-idx3-ubyte.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "l-idx1-ubyte").write_bytes(_idx(0x801, (5,), 5))
    for name in ("a-idx3-ubyte", "a-idx3-ubyte.gz"):
        images = read_idx(tmp_path / name)
        assert images.shape == (3, 28, 28) and images.dtype == np.uint8
        assert images.flags.writeable and images.flags.c_contiguous
        assert images.reshape(-1)[:256].tolist() == list(range(256))
    assert read_idx(tmp_path / "l-idx1-ubyte").tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_idx(0x80C, (2,), 2), "magic number 0x0000080C, expected 0x00000803 (images)"),
        (_idx(0x0D03, (1, 28, 28), 784), "magic number 0x00000D03"),
        (b"\x00\x00", "too short to be an IDX file (2 bytes)"),
        (_idx(0x803, (2, 28, 28), 0)[:10], "truncated IDX header: 10 bytes, expected at least 16"),
        (_idx(0x803, (2, 28, 28), 784), "has 800 bytes, the header implies 1584 (truncated)"),
        (_idx(0x801, (4,), 5), "has 13 bytes, the header implies 12 (longer than its header"),
        (_idx(0x803, (2, 27, 28), 2 * 27 * 28), "images are 27x28 pixels, expected 28x28"),
    ],
    ids=["labels-dtype", "wrong-magic", "tiny", "short-header", "truncated", "too-long", "dims"],
)
def test_read_idx_rejects_bad_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad-idx-ubyte.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)


def test_read_idx_rejects_bad_gzip(tmp_path: Path) -> None:
    good = gzip.compress(_idx(0x801, (1000,), 1000))
    truncated, flipped = tmp_path / "truncated.gz", tmp_path / "flipped.gz"
    truncated.write_bytes(good[:-12])
    flipped.write_bytes(good[:-6] + bytes([good[-6] ^ 0xFF]) + good[-5:])  # CRC-32 byte
    with pytest.raises(DataError, match=r"truncated\.gz: the gzip data is truncated"):
        read_idx(truncated)
    with pytest.raises(DataError, match=r"flipped\.gz: corrupt gzip data .*incorrect data check"):
        read_idx(flipped)


def test_verify_file_rejects_wrong_content(tmp_path: Path) -> None:
    path = tmp_path / TRAIN_LABELS
    path.write_bytes(gzip.compress(_idx(0x801, (60000,), 60000)))
    with pytest.raises(DataError, match="checksum mismatch") as info:
        verify_file(path)
    assert str(path) in str(info.value)
    path.write_bytes(gzip.compress(_idx(0x801, (6,), 6)))
    with pytest.raises(DataError, match="decompresses to 14 bytes, expected 60008"):
        verify_file(path)
    with pytest.raises(KeyError):
        verify_file(path, "nonsense.gz")


# --------------------------------------------------------------------------- downloads


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 with mirrors good/, empty/, flipped/ and truncated/."""
    if not _have_real_data():
        pytest.skip(f"the real Fashion-MNIST files are not in {REAL_DIR}")
    root = tmp_path_factory.mktemp("mirrors")
    _link_real(root / "good")
    (root / "empty").mkdir()
    (root / "flipped").mkdir()
    (root / "flipped" / TRAIN_LABELS).write_bytes(_flipped_labels())
    (root / "truncated").mkdir()
    labels = (REAL_DIR / TRAIN_LABELS).read_bytes()
    (root / "truncated" / TRAIN_LABELS).write_bytes(labels[: len(labels) - 100])
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_download_into_keras_cache(
    isolated: Path, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = load_fashion_mnist(mirrors=[server + "good/"])
    _check_arrays(train, test)
    assert np.bincount(test[1]).tolist() == [1000] * 10
    cache = isolated / "keras" / "datasets" / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (cache / name).read_bytes() == (REAL_DIR / name).read_bytes()
    err = capsys.readouterr().err
    assert all(name in err for name in FILES) and "done" in err


def test_download_404_then_good_mirror_into_explicit_dir(
    isolated: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _link_real(isolated / "mine", FILES[:1] + FILES[2:])
    monkeypatch.setattr(data, "MIRRORS", (server + "empty/", server + "good/"))
    monkeypatch.setenv("FMNIST_DATA_DIR", str(folder))
    _check_arrays(*load_fashion_mnist())
    assert (folder / TRAIN_LABELS).read_bytes() == (REAL_DIR / TRAIN_LABELS).read_bytes()
    assert _leftovers(folder) == []
    assert not (isolated / "keras").exists()


@pytest.mark.parametrize(
    ("mirror", "problem"),
    [
        ("flipped/", "checksum mismatch: the decompressed content has SHA-256"),
        ("truncated/", "the gzip data is truncated"),
    ],
)
def test_corrupt_download_is_rejected_and_leaves_nothing(
    isolated: Path, server: str, mirror: str, problem: str
) -> None:
    cache = _link_real(
        isolated / "keras" / "datasets" / "fashion-mnist",
        tuple(n for n in FILES if n != TRAIN_LABELS),
    )
    with pytest.raises(DownloadError) as info:
        load_fashion_mnist(mirrors=[server + "empty/", server + mirror])
    message = str(info.value)
    assert f"Could not download {TRAIN_LABELS} into {cache}" in message
    assert f"{server}empty/{TRAIN_LABELS}: HTTP error 404" in message
    assert f"{server}{mirror}{TRAIN_LABELS}: downloaded but rejected: {problem}" in message
    assert ".part" not in message  # the temporary name is not shown
    assert not (cache / TRAIN_LABELS).exists()
    assert _leftovers(cache) == []


def test_no_data_and_no_network(isolated: Path) -> None:
    with pytest.raises(DataNotFoundError) as info:
        load_fashion_mnist()
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith("Fashion-MNIST is not in Keras' cache")
    assert message.count("cannot connect") == 1  # reported once, not once per file
    assert "every mirror failed" in message
    assert "1. Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist" in message
    assert "2. Set the environment variable FMNIST_DATA_DIR" in message
    assert "3. Run load_fashion_mnist() once with a network connection" in message
    cache = isolated / "keras" / "datasets" / "fashion-mnist"
    assert list(cache.iterdir()) == []


def test_no_data_and_download_off(isolated: Path) -> None:
    with pytest.raises(DataNotFoundError, match="download=False") as info:
        load_fashion_mnist(download=False)
    assert "sudo apt-get install dataset-fashion-mnist" in str(info.value)
    assert not (isolated / "keras").exists()


def test_nothing_runs_at_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys, fmnist_utils.data\n"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(data.__file__).parents[1])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
