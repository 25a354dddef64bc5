"""binder/ is complete: what mybinder.org would build, built here from binder/'s files alone.

mybinder.org cannot be reached from the test machines. What can be tested
here is what repo2docker does with binder/: install apt.txt's packages and
requirements.txt in a fresh environment, run postBuild in a copy of the
repository, and start every session through start. The slow test does that
(apt.txt's packages must be installed on the host, as .ci/run does) and runs
lesson 1's solution in that environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from .support import repository_files, skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
FIRST_LESSON = "lessons/01_pixels_and_labels/01_pixels_and_labels.ipynb"
LESSON1_SOLUTION = ROOT / "solutions" / "01_pixels_and_labels" / "01_pixels_and_labels.ipynb"


def test_binder_has_every_file_repo2docker_needs() -> None:
    assert sorted(p.name for p in BINDER.iterdir()) == [
        "apt.txt",
        "postBuild",
        "requirements.txt",
        "runtime.txt",
        "start",
    ]
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    packages = [
        line.split("#")[0].strip() for line in (BINDER / "apt.txt").read_text().splitlines()
    ]
    assert "dataset-fashion-mnist" in packages, "Binder must need no download of the data"
    for script in ("postBuild", "start"):
        path = BINDER / script
        assert os.access(path, os.X_OK), f"binder/{script} must be executable"
        assert path.read_text().startswith("#!/bin/bash\n")
        done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert "pip install" in (BINDER / "postBuild").read_text()
    assert 'exec "$@"' in (BINDER / "start").read_text()


@pytest.mark.parametrize(
    ("cpu_limit", "threads"),
    [("1.0", "1"), ("2", "2"), ("0.5", "1"), ("3.7", "3")],
)
def test_start_caps_math_threads_to_binders_cpus(cpu_limit: str, threads: str) -> None:
    env = dict(os.environ, CPU_LIMIT=cpu_limit)
    done = subprocess.run(
        [str(BINDER / "start"), "env"], capture_output=True, text=True, env=env, check=True
    )
    seen = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        assert seen[name] == threads, (name, seen[name])
    assert seen["TF_NUM_INTRAOP_THREADS"] == threads
    assert seen["TF_CPP_MIN_LOG_LEVEL"] == "2"


def test_readme_badge_launches_lesson_1_of_this_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    badges = re.findall(r"\(https://mybinder\.org/v2/gh/([^)\s]+)\)", readme)
    assert len(badges) == 1, badges
    repo_and_ref, _, query = badges[0].partition("?")
    homepage = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Homepage"]
    assert repo_and_ref == homepage.removeprefix("https://github.com/") + "/HEAD"
    urlpath = urllib.parse.parse_qs(query)["urlpath"][0]
    assert urlpath == f"lab/tree/{FIRST_LESSON}"
    # The title's first paragraph, then the badge.
    assert readme.index("mybinder.org/badge_logo.svg") < readme.index("```bash")


@pytest.mark.slow
def test_a_fresh_environment_from_binder_runs_lesson_1(tmp_path: Path) -> None:
    packages = [
        line.split("#")[0].strip()
        for line in (BINDER / "apt.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    missing = [
        p for p in packages if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode
    ]
    if missing:
        reason = f"apt.txt's packages are not installed here: {' '.join(missing)}"
        skip_or_fail(reason)

    # The repository as Binder clones it: tracked files only.
    repo = tmp_path / "repo"
    for name in repository_files():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)

    venv = tmp_path / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),  # no kernel spec from elsewhere
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        CPU_LIMIT="1",
        FMNIST_FAST="1",
        HOME=str(tmp_path / "home"),
        # pip's own cache (wheels only; the environment is still new): a second run
        # need not download TensorFlow again.
        PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
    )
    (tmp_path / "home").mkdir()

    def run(*args: str, cwd: Path = repo, timeout: float = 900) -> subprocess.CompletedProcess:
        done = subprocess.run(
            list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        return done

    # repo2docker's order: requirements.txt, then postBuild in the repository root.
    run("python", "-m", "pip", "install", "-r", "binder/requirements.txt")
    run("binder/postBuild")
    spec = run("jupyter", "kernelspec", "list", "--json").stdout
    assert str(venv) in spec, f"the kernel must be the fresh environment's:\n{spec}"

    notebook = repo / LESSON1_SOLUTION.relative_to(ROOT)
    run(
        "binder/start", "jupyter", "nbconvert", "--to", "notebook", "--execute",
        "--ExecutePreprocessor.timeout=600", "--output-dir", str(tmp_path / "out"), str(notebook),
    )  # fmt: skip
    out = nbformat.read(tmp_path / "out" / notebook.name, as_version=4)
    errors = [o for c in out.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
