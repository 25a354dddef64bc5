"""``benchmarks/results.json``: every measured figure the course quotes, with its record.

A *record* is one measurement: what was measured (``section``, ``key``), its figures
(``result``), and how to trust them: ``date``, ``machine``
(:func:`fmnist_utils.environment.describe_machine`), the git ``commit``, the
``command`` that produced it, and ``load`` -- the machine's load average before and
after, the CPU the measurement itself used, and the *background load* the gate reads.

The background load is what other work put on the machine: the 1-minute load average
before the measurement, or the one after less the cores the measurement itself kept
busy on average, whichever is higher (the load average counts our own threads too).
A record whose background load exceeds :data:`LOAD_LIMIT_PER_CORE` per core (1.5 on
2 cores) is *loaded*: ``python -m benchmarks.run --page`` refuses it, or marks it
with ``--mark-loaded``.

Records are stored by key (``"models.classic_cnn"``, ``"container.01_pixels_and_labels"``);
:func:`merge` replaces only the keys a run measured, so ``--only peers`` keeps the
notebooks' figures.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
SCHEMA = 1
LOAD_LIMIT_PER_CORE = 0.75
"""Most background load per core a publishable figure may carry (1.5 on 2 cores)."""


def load_limit(cores: int) -> float:
    """The background load over which a record on ``cores`` cores is loaded."""
    return LOAD_LIMIT_PER_CORE * max(1, int(cores))


def git_commit(root: Path = ROOT) -> str:
    """The checked-out commit, with ``+dirty`` when tracked files (but the results file) differ."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            # the results file itself changes as a run goes: not a change to what is measured
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)benchmarks/results.json",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and of its waited-for children (user + system)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def background_load(before: float, after: float, own_cores: float) -> float:
    """Estimate the load other work put on the machine during a measurement.

    Parameters
    ----------
    before, after : float
        1-minute load averages just before and just after it.
    own_cores : float
        Cores the measurement kept busy on average (its CPU seconds / wall seconds).

    Returns
    -------
    float
        ``max(before, after - own_cores)``, never below 0, rounded to 0.01.
    """
    return round(max(0.0, before, after - own_cores), 2)


def settle(cores: int, *, most_s: float = 150.0, poll_s: float = 5.0) -> float:
    """Wait until the 1-minute load average falls to half the gate's limit, or ``most_s``.

    The load average decays slowly (about a minute's time constant), so a measurement
    taken right after another would count the previous one's threads as background.

    Parameters
    ----------
    cores : int
        The machine's cores (the limit is :func:`load_limit` of them).
    most_s : float, optional
        Longest wait, in seconds: a machine busy with other work is measured anyway
        (and its record marked loaded).
    poll_s : float, optional
        Seconds between looks.

    Returns
    -------
    float
        Seconds waited.
    """
    target, start = load_limit(cores) / 2, time.perf_counter()
    while os.getloadavg()[0] > target and time.perf_counter() - start < most_s:
        time.sleep(poll_s)
    return round(time.perf_counter() - start, 1)


def measure_record(
    section: str,
    key: str,
    run: Callable[[], dict[str, Any]],
    *,
    machine: dict[str, Any],
    command: str,
    commit: str,
) -> dict[str, Any]:
    """Run one measurement and wrap its figures in a record (see the module docstring).

    ``run`` returns the figures; an ``extra_cpu_seconds`` entry in them (CPU used in
    processes that are not our children, e.g. in a container) is moved into the load.
    """
    cores = int(machine.get("cores") or os.cpu_count() or 1)
    waited = settle(cores)
    load_before = [round(v, 2) for v in os.getloadavg()]
    cpu_before, start = _own_cpu_seconds(), time.perf_counter()
    result = run()
    wall = time.perf_counter() - start
    cpu = _own_cpu_seconds() - cpu_before + float(result.pop("extra_cpu_seconds", 0.0))
    load_after = [round(v, 2) for v in os.getloadavg()]
    own_cores = cpu / wall if wall > 0 else 0.0
    background = background_load(load_before[0], load_after[0], own_cores)
    return {
        "section": section,
        "key": key,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {k: v for k, v in machine.items() if k not in ("load_average", "date")},
        "commit": commit,
        "command": command,
        "load": {
            "before": load_before,
            "after": load_after,
            "wall_s": round(wall, 1),
            "own_cpu_s": round(cpu, 1),
            "own_cores": round(own_cores, 2),
            "background": background,
            "settled_s": waited,
            "limit": load_limit(cores),
            "loaded": background > load_limit(cores),
        },
        "result": result,
    }


def read(path: Path = RESULTS) -> dict[str, Any]:
    """Read the results file (an empty one when it does not exist yet)."""
    if not path.is_file():
        return {"schema": SCHEMA, "records": {}}
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {data.get('schema')!r}, expected {SCHEMA}")
    return data


def merge(data: dict[str, Any], records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Return ``data`` with ``records`` replacing those of the same key; others are kept."""
    merged = {"schema": SCHEMA, "records": dict(data.get("records", {}))}
    for record in records:
        merged["records"][record["key"]] = record
    merged["records"] = dict(sorted(merged["records"].items()))
    return merged


def write(data: dict[str, Any], path: Path = RESULTS) -> None:
    """Write the results file atomically (sorted keys, two-space indent)."""
    from fmnist_utils.files import atomic_write

    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def section_records(data: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    """The records of one section, by the part of their key after the section's name."""
    prefix = section + "."
    return {
        key[len(prefix) :] if key.startswith(prefix) else key: record
        for key, record in data.get("records", {}).items()
        if record.get("section") == section
    }
