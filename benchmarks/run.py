"""Measure the course on this machine; every figure goes to ``benchmarks/results.json``.

    python -m benchmarks.run                          # all but hub_sizing (hours on 2 cores)
    python -m benchmarks.run --only models,peers --models classic_cnn
    python -m benchmarks.run --only models --models improved_cnn --seeds 3
    python -m benchmarks.run --only notebooks,container --lessons 01,06
    python -m benchmarks.run --only hub_sizing        # as root: the class hub, 3 learners
    python -m benchmarks.run --only recipes --recipes improved_e12   # lesson 9's search
    python -m benchmarks.run --page [--mark-loaded]   # the measurements page from results.json

Sections (each measurement becomes one record of ``benchmarks/results.json``, with its
date, machine, commit, command and load: see ``benchmarks.results``):

``data``       load time of all 70,000 images (target: median <= 0.5 s)
``models``     lesson 7's CNN and lesson 9's improved CNN trained on the full data, once
               per seed (``--seeds N``: mean and spread): test accuracy, training time,
               peak memory (targets: >= 92.0 % in <= 2 min; >= 94.0 % on 3 seeds in <= 10 min)
``peers``      TensorFlow's clothing tutorial MLP and the Keras "simple MNIST convnet"
               (``benchmarks.peers``), trained in the same run as ``models``
``notebooks``  every solution notebook run with and without ``FMNIST_FAST=1``: wall time,
               kernel CPU time, peak kernel memory (targets: <= 60 s fast; <= 1.5 GB)
``container``  every solution notebook, full, in the course image held to 2 GB and
               2 CPUs, JupyterLab running beside it (``benchmarks.container``)
``grading``    autograding one submission of every lesson, and a class
               (``benchmarks.grading_speed``; targets: <= 60 s for all lessons; a class of
               10 with 2 workers >= 1.9x faster than with 1)
``grading_breakdown`` as root, with Debian's ``acct``: where grading one learner's
               whole course spends its CPU time (``benchmarks.grading_breakdown``; not in
               the default run)
``hub_sizing`` as root: the class hub with 3 learners at once (``benchmarks.hub_sizing``;
               not in the default run)
``recipes``    the search for lessons 7's and 9's recipes: each candidate of
               ``benchmarks.recipe_search`` trained on the full data (``--recipes``;
               about 2 minutes each for lesson 7's, 10 for lesson 9's, on 2
               cores; not in the default run)

Each measurement runs in a fresh process so that peak-memory figures are its own.
After each one the results file is updated, so an interrupted run keeps what it measured.
Nothing here asserts: ``--page`` renders the figures with their targets, and refuses
figures measured under a background load over 1.5 on 2 cores (``--mark-loaded`` marks them).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import results as store

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = (
    "data", "models", "peers", "notebooks", "container", "grading",
    "grading_breakdown", "hub_sizing", "recipes",
)  # fmt: skip
DEFAULT_SECTIONS = SECTIONS[:-3]
GIB = 2**30
MODELS = ("classic_cnn", "improved_cnn")
"""The course's models (lesson 7's and lesson 9's), by their recipe in ``fmnist_utils.models``."""
PEAK_RSS = "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20"
Unit = tuple[str, Callable[[], dict[str, Any]]]


def _in_subprocess(code: str, timeout: int, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` (which prints one JSON line last) in a fresh Python; return that JSON."""
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    full_env.pop("FMNIST_FAST", None)
    full_env.update(env or {})
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
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


def spread(values: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation, min and max of some figures."""
    import statistics

    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def bench_model(name: str, seeds: list[int]) -> dict:
    """Train one of the course's models once per seed, each in a fresh process."""
    return _train_seeds("", name, seeds)


def bench_recipe(name: str, seeds: list[int]) -> dict:
    """Train one candidate of the recipe search (``benchmarks.recipe_search``)."""
    from benchmarks.recipe_search import CANDIDATES

    setup = (
        "from benchmarks.recipe_search import recipe; from fmnist_utils.models import RECIPES; "
        f"RECIPES[{name!r}] = recipe({name!r}); "
    )
    out = _train_seeds(setup, name, seeds)
    out["what"] = CANDIDATES[name].what
    return out


def _train_seeds(setup: str, recipe: str, seeds: list[int]) -> dict:
    """Train a recipe once per seed in fresh processes; mean and spread of the runs."""
    runs = []
    for seed in seeds:
        runs.append(
            _in_subprocess(
                "import json, resource; from fmnist_utils.models import train_and_evaluate; "
                + setup
                + f"r = train_and_evaluate({recipe!r}, seed={seed}); "
                f"r['peak_rss_gib'] = round({PEAK_RSS}, 3); print(json.dumps(r))",
                timeout=3600,
            )
        )
    good = [r for r in runs if "error" not in r]
    out: dict[str, Any] = {"runs": runs}
    if good:
        out["test_accuracy"] = spread([r["test_accuracy"] for r in good])
        out["train_seconds"] = spread([r["train_seconds"] for r in good])
        out["peak_rss_gib"] = max(r["peak_rss_gib"] for r in good)
        out["epochs"], out["params"] = good[0]["epochs"], good[0]["params"]
        if good[0].get("mirror_test"):  # test_accuracy is the mirror average's
            out["mirror_test"] = True
            out["test_accuracy_plain"] = spread([r["test_accuracy_plain"] for r in good])
    return out


def bench_peer(name: str) -> dict:
    """Train one peer network (``benchmarks.peers``) in a fresh process."""
    return _in_subprocess(
        "import json, resource; from benchmarks.peers import train_peer; "
        f"r = train_peer({name!r}); r['peak_rss_gib'] = round({PEAK_RSS}, 3); "
        "print(json.dumps(r))",
        timeout=3600,
    )


NOTEBOOK_CODE = """
import json, resource, sys
from pathlib import Path
from fmnist_utils.tooling.profiler import run_notebook
r = run_notebook(Path(sys.argv[1]), fast=sys.argv[2] == "fast", timeout=1800)
c = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": round(r.seconds, 1), "peak_gib": round(r.peak_rss_bytes / 2**30, 3),
                  "cpu_seconds": round(c.ru_utime + c.ru_stime, 1)}))
"""


def bench_notebook(notebook: Path) -> dict:
    """Run a solution notebook fast and full, each in a fresh process (CPU: the kernel's)."""
    row = {}
    for mode in ("fast", "full"):
        code = f"import sys; sys.argv[1:] = [{str(notebook)!r}, {mode!r}]\n" + NOTEBOOK_CODE
        row[mode] = _in_subprocess(code, timeout=3600)
    return row


GRADING_CLASS = {"students": 10, "workers": 2, "one_worker": True}
"""The class the grading section grades: 10 submissions, 2 workers against 1."""


def bench_grading() -> dict:
    """Time autograding one submission of every lesson, and a class (:data:`GRADING_CLASS`)."""
    return _in_subprocess(
        "import json; from benchmarks.grading_speed import measure; "
        f"print(json.dumps(measure(**{GRADING_CLASS!r})))",
        timeout=3600,
    )


def bench_grading_breakdown() -> dict:
    """Where grading one learner's whole course spends its CPU time (as root, with accton)."""
    if os.geteuid() != 0:
        return {"error": "run as root: it turns the kernel's process accounting on"}
    return _in_subprocess(
        "import json; from benchmarks.grading_breakdown import measure; "
        "print(json.dumps(measure()))",
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


def units(section: str, args: argparse.Namespace) -> list[Unit]:
    """The measurements of one section, as (record key, function) pairs."""
    from fmnist_utils.tooling.lessons import find_lessons

    lessons = [
        lesson
        for lesson in find_lessons(ROOT)
        if not args.lessons or any(lesson.lesson_id.startswith(p) for p in args.lessons)
    ]
    seeds = list(range(args.seeds))
    if section == "data":
        return [("data", bench_data)]
    if section == "models":
        return [(f"models.{m}", lambda m=m: bench_model(m, seeds)) for m in args.models]
    if section == "peers":
        from benchmarks.peers import PEERS

        return [(f"peers.{p}", lambda p=p: bench_peer(p)) for p in PEERS]
    if section == "notebooks":
        return [
            (f"notebooks.{x.lesson_id}", lambda x=x: bench_notebook(x.source_ipynb))
            for x in lessons
        ]
    if section == "container":
        from benchmarks.container import build, run_lesson

        image = build()
        return [
            (f"container.{x.lesson_id}", lambda x=x: run_lesson(image, x.source_ipynb))
            for x in lessons
        ]
    if section == "grading":
        return [("grading", bench_grading)]
    if section == "grading_breakdown":
        return [("grading_breakdown", bench_grading_breakdown)]
    if section == "recipes":
        return [(f"recipes.{r}", lambda r=r: bench_recipe(r, seeds)) for r in args.recipes]
    return [("hub_sizing", bench_hub_sizing)]


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections, updating the results file; or render the measurements page."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--only", default=",".join(DEFAULT_SECTIONS), help="sections, comma-separated"
    )
    parser.add_argument("--models", default=",".join(MODELS), help="models section: which")
    parser.add_argument(
        "--seeds", type=int, default=1, help="models, recipes: seeds per model (0, 1, ...)"
    )
    parser.add_argument("--recipes", default="", help="recipes: which (default: all)")
    parser.add_argument("--lessons", default="", help="notebooks, container: lesson id prefixes")
    parser.add_argument("--results", type=Path, default=store.RESULTS, help="the results file")
    parser.add_argument(
        "--page", action="store_true", help="rewrite the docs' generated blocks (measurements, hub)"
    )
    parser.add_argument(
        "--mark-loaded", action="store_true", help="with --page: mark loaded rows, not refuse"
    )
    args = parser.parse_args(argv)
    if args.page:
        from benchmarks.page import LoadedError, update_page

        try:
            changed = update_page(store.read(args.results), mark_loaded=args.mark_loaded)
        except LoadedError as error:
            print(f"benchmarks.run --page: {error}", file=sys.stderr)
            return 1
        for path in changed:
            print(f"updated {path.relative_to(ROOT)}")
        if not changed:
            print("the generated blocks are already up to date")
        return 0
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.lessons = [p.strip() for p in args.lessons.split(",") if p.strip()]
    from benchmarks.recipe_search import CANDIDATES

    args.recipes = [r.strip() for r in args.recipes.split(",") if r.strip()] or list(CANDIDATES)
    if set(args.recipes) - set(CANDIDATES):
        parser.error(f"--recipes: choose from {', '.join(CANDIDATES)}")
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(
            f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}"
        )
    if set(args.models) - set(MODELS):
        parser.error(f"--models: choose from {', '.join(MODELS)}")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if "peers" in chosen and "models" not in chosen:  # peers train beside the course's models
        chosen.insert(chosen.index("peers"), "models")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from fmnist_utils.environment import describe_machine

    machine, commit = describe_machine(), store.git_commit()
    command = "python -m benchmarks.run " + shlex.join(argv if argv is not None else sys.argv[1:])
    for section in chosen:
        for key, run in units(section, args):
            print(f"[benchmark] {key} ...", file=sys.stderr, flush=True)
            record = store.measure_record(
                section, key, run, machine=machine, command=command, commit=commit
            )
            store.write(store.merge(store.read(args.results), [record]), args.results)
            load = record["load"]
            print(
                f"[benchmark] {key}: {load['wall_s']} s, load {load['before'][0]} -> "
                f"{load['after'][0]}, background {load['background']}"
                + (" (LOADED)" if load["loaded"] else "")
                + "\n"
                + json.dumps(record["result"]),
                file=sys.stderr,
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
