"""Several graders, one gradebook on a real PostgreSQL server, as the grading page says.

The test starts its own PostgreSQL server (Debian's ``postgresql`` package) on a free
loopback port, runs the page's "several graders" block against it, then has two
graders, each in their own copy of the course, grade their own learners with the
parallel grader at the same moment. Every learner's grade must be in the shared
gradebook, and right.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fmnist_utils.tooling.lessons import run_nbgrader, with_bin_on_path

from .grading_helpers import Submissions, export, grading_env_or_skip, make_course
from .support import free_port, guide_blocks, skip_or_fail

PASSWORD = "secret"


@contextmanager
def postgres_server() -> Iterator[int]:
    """Start a throw-away PostgreSQL server with a ``grader`` role; yield its port."""
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        skip_or_fail("PostgreSQL is not installed: sudo apt-get install postgresql")
    bindir = Path(initdb[-1]).parent
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="fmnist-pg-", dir="/tmp"))
    if as_postgres:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()

    def run(*command: str) -> None:
        done = subprocess.run([*as_postgres, *command], capture_output=True, text=True, cwd="/")
        assert done.returncode == 0, f"{command[0]}: {done.stdout}{done.stderr}"

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
            "--auth-local=trust", "--auth-host=scram-sha-256")  # fmt: skip
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
            "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")  # fmt: skip
        try:
            psql = [str(bindir / "psql"), "-h", str(folder), "-p", str(port), "-U", "postgres",
                    "-v", "ON_ERROR_STOP=1", "-c"]  # fmt: skip
            run(*psql, f"CREATE ROLE grader LOGIN PASSWORD '{PASSWORD}'")
            run(*psql, "CREATE DATABASE fmnist OWNER grader")
            yield port
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_two_graders_share_a_postgresql_gradebook_and_lose_no_grade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grading_env_or_skip(monkeypatch, trusted=True)
    (block,) = guide_blocks("bash several-graders")
    assert "db.example.org:5432" in block
    with postgres_server() as port:
        first, _ = make_course(tmp_path / "first", [], tiny=True)
        # the page's block, pointed at this server: the URL, then nbgrader's tables
        env = {**os.environ, "PATH": with_bin_on_path(os.environ.get("PATH", ""))}
        env.pop("FMNIST_GRADEBOOK_URL", None)
        done = subprocess.run(
            ["bash", "-euc", block.replace("db.example.org:5432", f"127.0.0.1:{port}")
             + '\necho "$FMNIST_GRADEBOOK_URL"'],
            cwd=first, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        url = done.stdout.strip().splitlines()[-1]
        assert url == f"postgresql://grader:{PASSWORD}@127.0.0.1:{port}/fmnist"
        registered = run_nbgrader(["generate_assignment", "01_tiny", "--force"], first, url)
        assert registered.returncode == 0, registered.stdout + registered.stderr
        # the second grader: their own copy of the course, the same gradebook
        second = tmp_path / "second"
        shutil.copytree(first, second, ignore=shutil.ignore_patterns("gradebook.db"))
        expected = {}
        for course, learners in ((first, ("ada", "bruno")), (second, ("chen", "dora"))):
            submissions = Submissions(course, "01_tiny")
            right, blank = learners
            submissions.submit(right, submissions.notebook())
            submissions.submit(blank, submissions.notebook(blank=True))
            expected |= {right: submissions.total, blank: 0.0}
        # both grade at the same moment
        graders = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "fmnist_utils.grading.parallel",
                    "01_tiny",
                    "--workers",
                    "1",
                ],
                cwd=course,
                env={**env, "FMNIST_GRADEBOOK_URL": url},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )  # fmt: skip
            for course in (first, second)
        ]
        outputs = [grader.communicate(timeout=600)[0] for grader in graders]
        assert [g.returncode for g in graders] == [0, 0], "\n".join(outputs)
        rows = export(second, url)
        scores = {student: float(row["score"]) for (_, student), row in rows.items()}
        assert scores == expected, scores
