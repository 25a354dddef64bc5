"""Every dependency declaration agrees with pyproject.toml, the one place pins live."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fmnist_utils.environment import DISTRIBUTION
from fmnist_utils.tooling import deps

ROOT = Path(__file__).resolve().parents[1]


def test_check_passes_on_the_repository() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fmnist_utils.tooling.deps", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_pin_in_pyproject_says_why() -> None:
    for group, entries in deps.read_pyproject().items():
        for dep in entries:
            assert dep.comment, f"{dep.requirement} ({group}) needs a comment saying why"
            if dep.name == canonicalize_name(DISTRIBUTION):
                continue  # the course's own extras, gathered (dev = test, lint, ...)
            assert dep.requirement.specifier, f"{dep.requirement} ({group}) is not pinned"


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("keras~=3.15.1", "keras >=3.15.1,<3.16"),
        ("packaging~=26.3", "packaging >=26.3,<27"),
        ("numpy>=2.0,<3", "numpy <3,>=2.0"),
        ("pillow==13.0.0", "pillow ==13.0.0"),
        ("jupytext", "jupytext"),
    ],
)
def test_conda_spec_keeps_the_same_versions(requirement: str, expected: str) -> None:
    assert deps.conda_spec(Requirement(requirement)) == expected


def _probe_versions(spec: SpecifierSet) -> list[Version]:
    """Versions around every bound of a specifier set."""
    probes = set()
    for clause in spec:
        v = Version(clause.version)
        parts = list(v.release) + [0] * (3 - len(v.release))
        for i in range(3):
            for delta in (-1, 0, 1):
                bumped = parts.copy()
                bumped[i] = max(0, bumped[i] + delta)
                probes.add(Version(".".join(map(str, bumped))))
    return sorted(probes)


def test_environment_yml_pins_what_pyproject_pins() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = {}
    pip = []
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip = entry["pip"]
            continue
        name, _, spec = entry.partition(" ")
        conda[canonicalize_name(name) if name not in ("python", "pip") else name] = spec
    assert conda.pop("python") == "=3.11"
    assert "pip" in conda and conda.pop("pip") == ""
    runtime = {dep.name: dep.requirement for dep in deps.read_pyproject()["runtime"]}
    pip_names = {canonicalize_name(Requirement(p).name) for p in pip if not p.startswith("-")}
    assert set(conda) | pip_names == set(runtime)
    assert "-e ." in pip, "conda users need the course package itself"
    for name, spec in conda.items():
        pyproject = runtime[name].specifier
        as_pep440 = SpecifierSet(spec)
        for version in _probe_versions(pyproject):
            assert (version in pyproject) == (version in as_pep440), (name, spec, version)


def test_environment_yml_keeps_every_comment() -> None:
    text = (ROOT / "environment.yml").read_text()
    for dep in deps.read_pyproject()["runtime"]:
        assert f"# {dep.comment}" in text, dep.name


def test_binder_requirements_are_the_runtime_pins() -> None:
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    reqs = [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]
    runtime = deps.read_pyproject()["runtime"]
    assert [str(r) for r in reqs] == [str(dep.requirement) for dep in runtime]


def test_dockerfile_pins_nothing_of_its_own(tmp_path: Path) -> None:
    assert deps.dockerfile_problems(ROOT / "Dockerfile") == []
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM debian\nRUN pip install --no-cache-dir . \\\n && pip install numpy==2.0\n"
        "RUN /opt/venv/bin/pip install jupyterlab\n"
    )
    problems = deps.dockerfile_problems(bad)
    assert len(problems) == 2, problems
    empty = tmp_path / "Empty"
    empty.write_text("FROM debian\n")
    assert deps.dockerfile_problems(empty)


def test_check_lists_the_drift_and_write_repairs_it(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "environment.yml", "Dockerfile"):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "binder", tmp_path / "binder")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"keras~=3.15.1"', '"keras~=3.16.0"'))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fmnist_utils.tooling.deps", "--root", str(tmp_path), *args],
            capture_output=True,
            text=True,
            check=False,
        )

    done = run("--check")
    assert done.returncode == 1
    assert "environment.yml" in done.stdout and "binder/requirements.txt" in done.stdout
    assert run("--write").returncode == 0
    assert run("--check").returncode == 0
    assert "keras >=3.16.0,<3.17" in (tmp_path / "environment.yml").read_text()
    assert "keras~=3.16.0" in (tmp_path / "binder" / "requirements.txt").read_text()
