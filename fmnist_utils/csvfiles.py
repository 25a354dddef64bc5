"""Read and write Kaggle-style Fashion-MNIST CSV files (a label, then 784 pixels a row).

:func:`load_csv` explains every malformed row (line, column, what is wrong);
:func:`save_csv` writes atomically and never overwrites a file unless told to.
Lessons import them from here.
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .files import atomic_write

__all__ = ["CSVFormatError", "load_csv", "save_csv"]

_GZIP_MAGIC = b"\x1f\x8b"


class CSVFormatError(ValueError):
    """A CSV file is not in the Kaggle Fashion-MNIST format (label, then 784 pixels)."""


_N_COLUMNS = 785
_HEADER = "label," + ",".join(f"pixel{i}" for i in range(1, 785))
_INT_FIELD = re.compile(rb"\s*[+-]?\d+\s*")


def _column_name(col: int) -> str:
    """Name a 1-based CSV column the Kaggle way."""
    return "label" if col == 1 else f"pixel{col - 1}"


def _diagnose_row(path: Path, line_no: int, row: bytes) -> None:
    """Raise CSVFormatError describing what is wrong with one row, if anything."""
    fields = row.split(b",")
    if len(fields) != _N_COLUMNS:
        raise CSVFormatError(
            f"{path}, line {line_no}: {len(fields)} values, expected {_N_COLUMNS} "
            "(a label then 784 pixel values)."
        )
    for col, field in enumerate(fields, start=1):
        text = field.decode("utf-8", "replace").strip()
        if not _INT_FIELD.fullmatch(field):
            what = "empty value" if not text else f"non-numeric value {text!r}"
            raise CSVFormatError(
                f"{path}, line {line_no}, column {col} ({_column_name(col)}): {what}; "
                "expected a whole number."
            )
        _check_value(path, line_no, col, int(text))


def _check_value(path: Path, line_no: int, col: int, value: int) -> None:
    """Raise CSVFormatError if a label or pixel value is out of range."""
    if col == 1 and not 0 <= value <= 9:
        raise CSVFormatError(f"{path}, line {line_no}: label {value} is outside 0-9.")
    if col > 1 and not 0 <= value <= 255:
        raise CSVFormatError(
            f"{path}, line {line_no}, column {col} ({_column_name(col)}): pixel value "
            f"{value} is outside 0-255."
        )


def _parse_rows(rows: list[bytes]) -> np.ndarray:
    """Parse CSV rows of whole numbers in 0-255 with NumPy's C parser (ValueError if not)."""
    return np.loadtxt(rows, delimiter=",", dtype=np.uint8, comments=None, ndmin=2)


def load_csv(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read a Fashion-MNIST CSV file in the Kaggle format.

    Each row is a label (0-9) then 784 pixel values (0-255), row by row. A header row
    (such as ``label,pixel1,...,pixel784``) is optional and recognised by its first field
    not being a number. Blank lines are skipped; a ``.gz`` file is decompressed.

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Returns
    -------
    x : numpy.ndarray
        ``uint8`` images, shape ``(n, 28, 28)``.
    y : numpy.ndarray
        ``uint8`` labels, shape ``(n,)``.

    Raises
    ------
    CSVFormatError
        For an empty file or a bad row (wrong number of values, a non-numeric value, a
        label outside 0-9, a pixel outside 0-255); the message names the file, the 1-based
        line number and what is wrong.
    """
    p = Path(path)
    data = p.read_bytes()
    if data[:2] == _GZIP_MAGIC:
        data = gzip.decompress(data)
    data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
    lines = data.splitlines()
    numbers = [i for i, line in enumerate(lines, start=1) if line and not line.isspace()]
    if not numbers:
        raise CSVFormatError(f"{p}: the file is empty; expected a label and 784 pixels per row.")
    first = lines[numbers[0] - 1]
    if not _INT_FIELD.fullmatch(first.split(b",", 1)[0]):
        if first.count(b",") + 1 != _N_COLUMNS:
            raise CSVFormatError(
                f"{p}, line {numbers[0]}: the header has {first.count(b',') + 1} columns, "
                f"expected {_N_COLUMNS} (label, pixel1, ..., pixel784)."
            )
        numbers = numbers[1:]
        if not numbers:
            raise CSVFormatError(f"{p}: the file has a header but no data rows.")
    rows = [lines[i - 1] for i in numbers]
    for line_no, row in zip(numbers, rows, strict=True):
        if row.count(b",") != _N_COLUMNS - 1:
            _diagnose_row(p, line_no, row)
    try:
        values = _parse_rows(rows)
    except ValueError as exc:  # find the first bad row by bisection, then say what is wrong
        lo, hi = 0, len(rows)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                _parse_rows(rows[lo:mid])
                lo = mid
            except ValueError:
                hi = mid
        _diagnose_row(p, numbers[lo], rows[lo])
        why = re.sub(r" at row \d+, column (\d+)", r" in column \1", str(exc)).rstrip(".")
        raise CSVFormatError(f"{p}, line {numbers[lo]}: cannot parse the row: {why}.") from exc
    if values.shape != (len(rows), _N_COLUMNS):  # cannot happen after the checks above
        raise CSVFormatError(f"{p}: expected {_N_COLUMNS} columns, got shape {values.shape}.")
    y = values[:, 0].copy()
    bad = np.flatnonzero(y > 9)
    if bad.size:
        _check_value(p, numbers[bad[0]], 1, int(y[bad[0]]))
    x = values[:, 1:].reshape(-1, 28, 28).copy()
    return x, y


def _as_uint8(a: np.ndarray, what: str, high: int) -> np.ndarray:
    """Check that ``a`` holds whole numbers in ``0..high`` and return it as uint8."""
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{what} must hold numbers, not {a.dtype}.")
    if a.size and a.dtype.kind == "f" and not np.array_equal(a, np.round(a)):
        raise ValueError(f"{what} must hold whole numbers.")
    if a.size and (a.min() < 0 or a.max() > high):
        raise ValueError(f"{what} values must be in 0-{high}; found {a.min()}-{a.max()}.")
    return a.astype(np.uint8, copy=False)


def _digit_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the text of 0..255 followed by ',' and by newline, as byte tables + mask."""
    comma = np.zeros((256, 4), np.uint8)
    newline = np.zeros((256, 4), np.uint8)
    mask = np.zeros((256, 4), bool)
    for v in range(256):
        s = str(v).encode()
        comma[v, : len(s) + 1] = np.frombuffer(s + b",", np.uint8)
        newline[v, : len(s) + 1] = np.frombuffer(s + b"\n", np.uint8)
        mask[v, : len(s) + 1] = True
    return comma, newline, mask


def save_csv(
    path: str | os.PathLike[str],
    x: np.ndarray,
    y: np.ndarray,
    *,
    header: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write images and labels as a Kaggle-format Fashion-MNIST CSV file.

    The file is written to a temporary name and renamed, so it is complete or absent.

    Parameters
    ----------
    path : str or path-like
        The file to create.
    x : numpy.ndarray
        Images, shape ``(n, 28, 28)`` or ``(n, 784)``, whole numbers in 0-255.
    y : numpy.ndarray
        Labels, shape ``(n,)``, whole numbers in 0-9.
    header : bool, default True
        Whether to write the ``label,pixel1,...,pixel784`` header row.
    overwrite : bool, default False
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false; nothing is written.
    ValueError
        If the shapes or values are not those of Fashion-MNIST images and labels.
    """
    p = Path(path)
    xa, ya = np.asarray(x), np.asarray(y)
    if xa.ndim not in (2, 3) or xa.shape[1:] not in ((28, 28), (784,)):
        raise ValueError(f"x must have shape (n, 28, 28) or (n, 784), not {xa.shape}.")
    if ya.shape != (len(xa),):
        raise ValueError(f"y must have shape ({len(xa)},) to match x, not {ya.shape}.")
    table = np.concatenate(
        [_as_uint8(ya, "y", 9)[:, None], _as_uint8(xa, "x", 255).reshape(len(xa), 784)], axis=1
    )
    refusal = (
        f"{p} already exists; save_csv does not overwrite files. "
        "Pass overwrite=True to replace it, or choose another name."
    )
    if p.exists() and not overwrite:
        raise FileExistsError(refusal)
    if not p.parent.is_dir():
        raise FileNotFoundError(f"cannot write {p}: the folder {p.parent} does not exist.")
    comma, newline, mask = _digit_tables()

    def write(out: BinaryIO) -> None:
        if header:
            out.write(_HEADER.encode() + b"\n")
        for start in range(0, len(table), 4096):
            part = table[start : start + 4096]
            chars = np.concatenate([comma[part[:, :-1]], newline[part[:, -1:]]], axis=1)
            out.write(chars[mask[part]].tobytes())

    try:
        return atomic_write(p, write, overwrite=overwrite)
    except FileExistsError:
        raise FileExistsError(refusal) from None
