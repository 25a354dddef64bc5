"""The notebook profiler: `python -m fmnist_utils.tooling profile` runs, measures, and says why not."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from fmnist_utils.tooling.cli import main

# The notebook checks the mode it was run in: it passes in fast mode only.
FAST_ONLY = [
    "import os",
    "assert os.environ.get('FMNIST_FAST') == '1', 'not in fast mode'",
    "ballast = bytearray(64 * 2**20)  # the kernel's peak must show these 64 MiB",
]


def _notebook(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in FAST_ONLY])
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_profile_measures_a_fast_run_and_reports_a_failing_full_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _notebook(tmp_path)
    assert main(["profile", str(path)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{path}: ") and "FMNIST_FAST=1" in line and "load average" in line
    peak_gib = float(line.split("kernel peak ")[1].split(" GiB")[0])
    assert peak_gib >= 64 / 1024, f"the kernel's peak misses the 64 MiB it allocated: {line}"

    assert main(["profile", "--full", str(path)]) == 1
    out = capsys.readouterr().out
    assert "a cell failed" in out and "not in fast mode" in out, out


def test_profile_names_a_missing_notebook(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    missing = tmp_path / "nowhere.ipynb"
    assert main(["profile", str(missing)]) == 2
    assert f"No such notebook: {missing}" in capsys.readouterr().err
