"""Measure the course on this machine; print a table and JSON.

    python -m benchmarks.run                  # all but hub_sizing (about 45 minutes on 2 cores)
    python -m benchmarks.run --only hub_sizing  # as root: the class hub, 3 learners at once
    python -m benchmarks.run --only data,grading
    python -m benchmarks.run --json results.json

Sections:

``data``       load time of all 70,000 images (target: median <= 0.5 s)
``models``     lesson 6's CNN and lesson 8's improved CNN trained on the full data:
               test accuracy, training wall time, epochs, peak memory
               (targets: >= 90.5 % in <= 3 min; >= 93.0 % in <= 10 min)
``notebooks``  every solution notebook run with and without ``FMNIST_FAST=1``:
               wall time and peak kernel memory (targets: <= 60 s fast; <= 1.5 GB)
``grading``    autograding one student's submission of every lesson
               (target: <= 2 min), and the parallel speed-up
``hub_sizing`` as root: the class hub with 3 learners running lessons 1 and 5 at once:
               memory and CPU-seconds per learner, and grading throughput
               (``python -m benchmarks.hub_sizing``; not in the default run)

Each measurement runs in a fresh process so that peak-memory figures are its own.
Nothing here asserts: the figures are printed, with the targets beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from fmnist_utils.environment import describe_machine

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("data", "models", "notebooks", "grading", "hub_sizing")
GIB = 2**30


def _in_subprocess(code: str, timeout: int) -> dict:
    """Run ``code`` (which prints one JSON line last) in a fresh Python; return that JSON."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    env.pop("FMNIST_FAST", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout)[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_data(repeat: int = 7) -> dict:
    """Time loading the full data set."""
    return _in_subprocess(
        "import json; from benchmarks.load_time import measure; "
        f"print(json.dumps(measure({repeat})))",
        timeout=600,
    )


def bench_models() -> dict:
    """Train lesson 6's and lesson 8's reference models on the full data."""
    results = {}
    for name in ("lesson5_cnn", "lesson7_improved_cnn"):
        results[name] = _in_subprocess(
            "import json, resource; from fmnist_utils.models import train_and_evaluate; "
            f"r = train_and_evaluate({name!r}); "
            "r['peak_rss_gib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20; "
            "print(json.dumps(r))",
            timeout=1800,
        )
    return results


def bench_notebooks() -> dict:
    """Run every solution notebook, fast and full."""
    from fmnist_utils.tooling.lessons import find_lessons
    from fmnist_utils.tooling.profiler import run_notebook

    results = {}
    for lesson in find_lessons(ROOT):
        row = {}
        for mode, fast in (("fast", True), ("full", False)):
            try:
                r = run_notebook(lesson.source_ipynb, fast=fast, timeout=1800)
                row[mode] = {"seconds": round(r.seconds, 1), "peak_gib": r.peak_rss_bytes / GIB}
            except Exception as error:  # a failing lesson is reported, not fatal
                row[mode] = {"error": str(error)[-500:]}
        results[lesson.lesson_id] = row
    return results


def bench_grading() -> dict:
    """Time autograding one submission of every lesson, and the parallel speed-up."""
    return _in_subprocess(
        "import json; from benchmarks.grading_speed import measure; print(json.dumps(measure()))",
        timeout=3600,
    )


def bench_hub_sizing() -> dict:
    """The class hub with 3 learners at work: memory, CPU, grading throughput (as root)."""
    if os.geteuid() != 0:
        return {"error": "run as root: it creates learners and starts the hub"}
    return _in_subprocess(
        "import json; from benchmarks.hub_sizing import measure; print(json.dumps(measure()))",
        timeout=7200,
    )


def _fmt(value, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def table(results: dict) -> str:
    """Render the results as a plain-text table with the targets."""
    lines = []
    m = results.get("machine", {})
    lines.append(
        f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB; "
        f"Python {m.get('python')}, TensorFlow {m.get('tensorflow')}, Keras {m.get('keras')}; "
        f"{m.get('date')}"
    )
    if "data" in results:
        d = results["data"]
        lines.append(
            f"\nData load (70,000 images, verified): median {_fmt(d.get('median_s'), '.3f')} s"
            f"  (target <= 0.5 s)"
        )
    if "models" in results:
        lines.append("\nModel                  test acc   train time   epochs   peak mem   target")
        targets = {
            "lesson5_cnn": ">= 90.5% in <= 180 s",
            "lesson7_improved_cnn": ">= 93.0% in <= 600 s",
        }
        for name, r in results["models"].items():
            if "error" in r:
                lines.append(f"{name:<22} ERROR {r['error'][-200:]}")
                continue
            lines.append(
                f"{name:<22} {100 * r['test_accuracy']:7.2f}%   {r['train_seconds']:8.0f} s"
                f"   {r['epochs']:6d}   {r['peak_rss_gib']:5.2f} GiB   {targets[name]}"
            )
    if "notebooks" in results:
        lines.append(
            "\nLesson                      fast: time  peak      full: time  peak"
            "   (targets: 60 s, 1.5 GiB)"
        )
        for lesson, row in results["notebooks"].items():
            cells = []
            for mode in ("fast", "full"):
                r = row.get(mode, {})
                if "error" in r:
                    cells.append("      ERROR        ")
                else:
                    cells.append(f"{r['seconds']:9.1f} s {r['peak_gib']:5.2f} GiB")
            lines.append(f"{lesson:<26} {cells[0]}   {cells[1]}")
    if "grading" in results:
        g = results["grading"]
        lines.append(f"\nGrading: {json.dumps(g)}")
    if "hub_sizing" in results:
        lines.append(f"\nHub sizing: {json.dumps(results['hub_sizing'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections; print the table and the JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--only", default=",".join(SECTIONS[:-1]), help="comma-separated sections")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(
            f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}"
        )
    runners = {
        "data": bench_data,
        "models": bench_models,
        "notebooks": bench_notebooks,
        "grading": bench_grading,
        "hub_sizing": bench_hub_sizing,
    }
    results: dict = {"machine": describe_machine()}
    for section in chosen:
        start = time.perf_counter()
        print(f"[benchmark] {section} ...", file=sys.stderr, flush=True)
        results[section] = runners[section]()
        print(f"[benchmark] {section} done in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(table(results))
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
