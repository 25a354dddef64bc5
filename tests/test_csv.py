"""Tests for the Kaggle-style CSV reader and writer in fmnist_utils.data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from fmnist_utils import data
from fmnist_utils.csvfiles import CSVFormatError, load_csv, save_csv
from fmnist_utils.data import read_idx

HEADER = "label," + ",".join(f"pixel{i}" for i in range(1, 785))


@pytest.fixture(scope="module")
def real200() -> tuple[np.ndarray, np.ndarray]:
    """The first 200 real test images and labels."""
    folder = data.OS_DATA_DIR
    if not (folder / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the real Fashion-MNIST files are not in {folder}")
    x = read_idx(folder / "t10k-images-idx3-ubyte.gz")[:200].copy()
    y = read_idx(folder / "t10k-labels-idx1-ubyte.gz")[:200].copy()
    return x, y


def _row(label: object = 3, pixels: list[object] | None = None) -> str:
    values = pixels if pixels is not None else [(7 * i) % 256 for i in range(784)]
    return ",".join(str(v) for v in [label, *values])


def _write(tmp_path: Path, lines: list[str], name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("header", [True, False])
def test_round_trip_real_images(
    tmp_path: Path, real200: tuple[np.ndarray, np.ndarray], header: bool
) -> None:
    x, y = real200
    path = save_csv(tmp_path / "fashion.csv", x, y, header=header)
    assert path == tmp_path / "fashion.csv"
    first = path.read_text().split("\n", 1)[0]
    assert (first == HEADER) is header
    x2, y2 = load_csv(path)
    assert x2.dtype == np.uint8 and y2.dtype == np.uint8
    assert x2.shape == (200, 28, 28) and y2.shape == (200,)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)
    assert [p.name for p in tmp_path.iterdir()] == ["fashion.csv"]  # no temporary file


def test_save_accepts_flat_images_and_matches_kaggle_text(tmp_path: Path) -> None:
    x = np.zeros((2, 784), dtype=np.int64)
    x[0, 0], x[1, 783] = 255, 9
    path = save_csv(tmp_path / "two.csv", x, np.array([0, 9]), header=False)
    lines = path.read_text().splitlines()
    assert lines[0] == "0,255," + ",".join(["0"] * 783)
    assert lines[1] == "9," + ",".join(["0"] * 783) + ",9"


def test_load_tolerates_crlf_blank_lines_bom_and_gzip(tmp_path: Path) -> None:
    text = "\ufeff" + HEADER + "\r\n" + _row(1) + "\r\n\r\n" + _row(9) + "\r\n\n"
    plain = tmp_path / "windows.csv"
    plain.write_bytes(text.encode())
    packed = tmp_path / "windows.csv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    for path in (plain, packed):
        x, y = load_csv(path)
        assert y.tolist() == [1, 9] and x.shape == (2, 28, 28)
        assert x[0].reshape(-1).tolist() == [(7 * i) % 256 for i in range(784)]


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([HEADER, _row(), _row(), "3,1,2"], "line 4: 3 values, expected 785"),
        ([_row(), _row() + ",0"], "line 2: 786 values, expected 785"),
        ([_row(), _row(pixels=[0] * 10 + ["abc"] + [0] * 773)], "line 2, column 12 (pixel11):"),
        ([_row(), _row(pixels=[0] * 5 + ["1.5"] + [0] * 778)], "non-numeric value '1.5'"),
        ([HEADER, _row(pixels=[""] + [0] * 783)], "line 2, column 2 (pixel1): empty value"),
        ([_row(), _row(), _row(label=10)], "line 3: label 10 is outside 0-9"),
        ([_row(label=-1)], "line 1: label -1 is outside 0-9"),
        ([_row(label="x")] * 2, "line 2, column 1 (label): non-numeric value 'x'"),
        ([HEADER, _row(pixels=[256] + [0] * 783)], "line 2, column 2 (pixel1): pixel value 256"),
        ([_row(pixels=[0] * 783 + [-3])], "line 1, column 785 (pixel784): pixel value -3 is"),
        ([_row(pixels=[10**30] + [0] * 783)], f"pixel value {10**30} is outside 0-255"),
        (["label,pixel1,pixel2", _row()], "line 1: the header has 3 columns, expected 785"),
    ],
    ids=[
        "too-few",
        "too-many",
        "text",
        "float",
        "empty-value",
        "label-10",
        "label-negative",
        "label-text",
        "pixel-256",
        "pixel-negative",
        "pixel-huge",
        "short-header",
    ],
)
def test_bad_rows(tmp_path: Path, lines: list[str], expected: str) -> None:
    path = _write(tmp_path, lines)
    with pytest.raises(CSVFormatError) as info:
        load_csv(path)
    assert str(info.value).startswith(f"{path}, line ") or str(info.value).startswith(f"{path}:")
    assert expected in str(info.value)
    assert isinstance(info.value, ValueError)


def test_blank_lines_do_not_shift_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, ["", HEADER, "", _row(), "  ", _row(label=12)])
    with pytest.raises(CSVFormatError, match=r"data\.csv, line 6: label 12 is outside 0-9"):
        load_csv(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "the file is empty"), ("\n \n", "the file is empty"), (HEADER + "\n", "no data rows")],
    ids=["empty", "blank", "header-only"],
)
def test_empty_files(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(text)
    with pytest.raises(CSVFormatError, match=expected) as info:
        load_csv(path)
    assert str(info.value).startswith(f"{path}: ")


# --------------------------------------------------------------------------- save_csv


def test_save_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("precious work\n")
    x, y = np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8)
    with pytest.raises(FileExistsError) as info:
        save_csv(path, x, y)
    assert str(path) in str(info.value) and "overwrite=True" in str(info.value)
    assert path.read_text() == "precious work\n"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.csv"]
    save_csv(path, x, y, overwrite=True)
    assert load_csv(path)[1].tolist() == [0]


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (np.zeros((2, 28, 27)), np.zeros(2), "x must have shape"),
        (np.zeros((2, 784)), np.zeros(3), "y must have shape (2,)"),
        (np.full((1, 784), 256), np.zeros(1), "x values must be in 0-255; found 256-256"),
        (np.zeros((1, 784)), np.array([10]), "y values must be in 0-9"),
        (np.full((1, 784), 0.5), np.zeros(1), "x must hold whole numbers"),
        (np.full((1, 784), "a"), np.zeros(1), "x must hold numbers"),
    ],
)
def test_save_rejects_bad_arrays(tmp_path: Path, x: np.ndarray, y: np.ndarray, expected: str):
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        save_csv(tmp_path / "out.csv", x, y)
    assert list(tmp_path.iterdir()) == []


def test_save_into_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_csv(tmp_path / "nope" / "out.csv", np.zeros((1, 784)), np.zeros(1))


def test_unparsable_row_falls_back_to_numpys_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row(), _row(pixels=["-0"] + [0] * 783)])
    with pytest.raises(CSVFormatError) as info:
        load_csv(path)
    assert str(info.value) == (
        f"{path}, line 2: cannot parse the row: could not convert string '-0' to uint8 in column 2."
    )
