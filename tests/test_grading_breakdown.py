"""The grading breakdown reads the kernel's process accounting and sorts it rightly."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from benchmarks.grading_breakdown import ACCT_V3, read_accounting, sort_processes


def _record(pid: int, ppid: int, comm: str, ticks: int, version: int = 3) -> bytes:
    """One ``struct acct_v3``, laid out by hand from ``<linux/acct.h>``'s offsets.

    ``ticks`` of user time (a comp_t, 1/100 s each) and 10 of system time.
    """
    utime = ticks if ticks < 8192 else (ticks >> 3) | (1 << 13)  # exponent 1 past 13 bits
    raw = bytearray(64)
    raw[1] = version  # ac_version (ac_flag is byte 0)
    struct.pack_into("=II", raw, 16, pid, ppid)  # ac_pid, ac_ppid
    struct.pack_into("=HH", raw, 32, utime, 10)  # ac_utime, ac_stime (after ac_etime)
    raw[48 : 48 + len(comm)] = comm.encode()  # ac_comm[16]
    return bytes(raw)


def test_the_layout_is_linux_s() -> None:
    assert ACCT_V3.size == 64


# the parallel grader (100): alembic, the fork server (102) and one job (103) that
# probes the sandbox, then starts the learner's kernel (wrapper 107; the kernel, 110,
# starts a process of its own, 111) and the tests kernel (wrapper 112)
TREE = [
    (101, 100, "alembic", 120),
    (106, 105, "true", 0),
    (105, 104, "bwrap", 0),
    (104, 103, "bwrap", 0),
    (111, 110, "python", 450),
    (110, 109, "tf_graph_runner", 1700),
    (109, 108, "bwrap", 0),
    (108, 107, "bwrap", 0),
    (107, 103, "python", 5),
    (114, 113, "tf_Compute", 600),
    (113, 112, "bwrap", 0),
    (112, 103, "python", 5),
    (103, 102, "python", 70),
    (102, 100, "python", 100),
    (120, 102, "python", 40),  # a job that only probed the sandbox (a rejected file)
    (121, 120, "bwrap", 0),
    (122, 100, "python", 30),  # the grader's own check of the sandbox
    (123, 122, "bwrap", 0),
    (999, 1, "cron", 500),  # not the grader's
    (100, 99, "python", 260),
]


@pytest.fixture
def accounting(tmp_path: Path) -> Path:
    path = tmp_path / "pacct"
    path.write_bytes(b"".join(_record(*row) for row in TREE) + _record(7, 1, "v2", 9, 2))
    return path


def test_reads_every_version_3_record(accounting: Path) -> None:
    """Every v3 record is read, with user + system time in seconds; other versions are not."""
    records = read_accounting(accounting)
    assert [r.pid for r in records] == [row[0] for row in TREE]
    kernel = next(r for r in records if r.pid == 110)
    assert (kernel.ppid, kernel.comm) == (109, "tf_graph_runner")
    assert kernel.cpu_s == pytest.approx(17.1)  # 1700 user + 10 system ticks
    assert sum(r.cpu_s for r in records) == pytest.approx(40.8)


def test_large_times_decode_their_exponent(tmp_path: Path) -> None:
    """A comp_t over 13 bits carries a base-8 exponent: 10,000 ticks read as 100 s."""
    path = tmp_path / "pacct"
    path.write_bytes(_record(5, 1, "long", 10_000))
    assert read_accounting(path)[0].cpu_s == pytest.approx(100.0 + 0.1)


def test_sorts_the_grader_s_processes(accounting: Path) -> None:
    """Learner's kernel (with its child), tests kernel and nbgrader's own steps, apart;
    a process that only probed the sandbox is nbgrader's, not a job."""
    figures = sort_processes(read_accounting(accounting), grader=100)
    assert figures["jobs"] == [
        {"learner_cpu_s": pytest.approx(22.05), "tests_cpu_s": pytest.approx(6.35),
         "nbgrader_cpu_s": pytest.approx(1.1)},
    ]  # fmt: skip
    assert figures["learner_kernels_cpu_s"] == pytest.approx(22.05, abs=0.06)
    assert figures["tests_kernels_cpu_s"] == pytest.approx(6.35, abs=0.06)
    assert figures["other_cpu_s"] == pytest.approx(6.2)  # grader, server, alembic, probes
    assert figures["nbgrader_cpu_s"] == pytest.approx(7.3)
    assert figures["cpu_s"] == pytest.approx(35.7)  # not the unrelated cron job
