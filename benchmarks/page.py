"""The website's measured blocks, rendered from ``benchmarks/results.json`` only.

``python -m benchmarks.run --page`` replaces what lies between :data:`BEGIN` and
:data:`END` in ``docs/maintainers/measurements.md`` with :func:`render`'s text, and
what lies between :data:`SIZING_BEGIN` and :data:`SIZING_END` in the class hub's page
with :func:`render_sizing`'s, so no page can quote a figure the results file does not
hold (``tests/test_measured.py`` checks they agree).
A record measured under too much background load (``benchmarks.results``) is refused
with :class:`LoadedError`, or, with ``mark_loaded``, shown with "(load X)".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.results import ROOT, section_records

PAGE = ROOT / "docs" / "maintainers" / "measurements.md"
BEGIN = "<!-- measured:begin (python -m benchmarks.run --page writes this block) -->"
END = "<!-- measured:end -->"
HUB_PAGE = ROOT / "docs" / "instructors" / "hub.md"
SIZING_BEGIN = "<!-- sizing:begin (python -m benchmarks.run --page writes this block) -->"
SIZING_END = "<!-- sizing:end -->"
#: Memory kept for the system and the hub when counting learners: an allowance, not measured.
RESERVE_GIB = 2.0
#: The machines the learners-per-machine table is computed for: (cores, GiB).
MACHINES = ((2, 8), (4, 16), (8, 32), (16, 64), (32, 128))
TARGETS = {
    "data": "≤ 0.5 s",
    "classic_cnn": "≥ 92.0 % in ≤ 2 min",
    "improved_cnn": "≥ 94.0 % (mean of 3 seeds) in ≤ 10 min",
    "fast": "≤ 60 s",
    "peak": "≤ 1.5 GiB",
    "grading": "≤ 60 s",
    "speedup": "≥ 1.9×",
}
MODEL_NAMES = {
    "classic_cnn": "lesson 7's CNN",
    "improved_cnn": "lesson 9's improved CNN",
    "tutorial_mlp": "TensorFlow tutorial's MLP",
    "keras_mnist_convnet": "Keras 'simple MNIST convnet'",
}
NOT_MEASURED = "not measured yet"


def cpu_name(machine: dict[str, Any]) -> str:
    """Name a record's CPU with its vector extension: ``"AMD EPYC (AVX2)"``.

    Times compare only between records whose names agree: one model name can hide
    machines twice as fast as each other. Records older than the ``vector`` field give
    the model name alone, so they compare with none of the newer ones.
    """
    cpu = str(machine.get("cpu", "?"))
    vector = machine.get("vector")
    return f"{cpu} ({vector})" if vector else cpu


class LoadedError(RuntimeError):
    """Figures measured under a background load over the limit, and not allowed to be shown."""


class _Marks:
    """Collect the loaded records a rendering used; say how to mark a row."""

    def __init__(self, mark_loaded: bool) -> None:
        self.mark_loaded, self.loaded = mark_loaded, {}

    def __call__(self, *records: dict[str, Any] | None) -> str:
        worst = 0.0
        for record in records:
            if record and record.get("load", {}).get("loaded"):
                self.loaded[record["key"]] = record["load"]["background"]
                worst = max(worst, record["load"]["background"])
        return f" (load {worst:.1f})" if worst else ""


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def _gib(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} GiB"


def _pct(value: float) -> str:
    return f"{100 * value:.2f} %"


def _error(result: dict[str, Any]) -> str | None:
    return "failed (see benchmarks/results.json)" if "error" in result else None


def _with_mirror(accuracy: str, plain: float) -> str:
    """Say that ``accuracy`` is the mirror average's, with the network alone's beside it."""
    return f"{accuracy} with each image's mirror image averaged in ({_pct(plain)} without)"


def _model_cell(result: dict[str, Any]) -> str:
    """One model's figures: accuracy (mean ± spread over seeds), training time, peak, note."""
    if "test_accuracy" not in result:
        return "failed (see benchmarks/results.json)"
    acc, secs = result["test_accuracy"], result["train_seconds"]
    if acc["n"] > 1:
        text = (
            f"**{_pct(acc['mean'])}** ± {100 * acc['std']:.2f} test accuracy "
            f"({acc['n']} seeds, {_pct(acc['min'])}–{_pct(acc['max'])})"
        )
    else:
        text = f"**{_pct(acc['mean'])}** test accuracy"
    if result.get("mirror_test"):
        text = _with_mirror(text, result["test_accuracy_plain"]["mean"])
    text = f"{text}, {_seconds(secs['mean'])} training, {_gib(result['peak_rss_gib'])} peak"
    note = result.get("note")  # what a reader must know to compare this figure
    return f"{text} ({note})" if note else text


def _header(data: dict[str, Any]) -> list[str]:
    records = list(data.get("records", {}).values())
    if not records:
        return ["Nothing measured yet: run `python -m benchmarks.run`."]
    machines: dict[str, list[str]] = {}  # machine: the sections measured on it
    for r in records:
        m = r["machine"]
        text = (
            f"{cpu_name(m)}, {m.get('cores')} cores, {m.get('memory_gib')} GiB; "
            f"Python {m.get('python')}, TensorFlow {m.get('tensorflow')}, Keras {m.get('keras')}"
        )
        sections = machines.setdefault(text, [])
        if r["section"] not in sections:
            sections.append(r["section"])
    where = (
        next(iter(machines))
        if len(machines) == 1
        else "; and on ".join(f"{m} ({', '.join(sorted(s))})" for m, s in machines.items())
    )
    dates = sorted(r["date"][:10] for r in records)
    limit = records[0]["load"]["limit"]
    return [
        f"Measured on {where}; from {dates[0]} to {dates[-1]}. "
        f"Every figure here is generated from `benchmarks/results.json`, whose records also "
        f"hold the command, the commit and the load average before and after each "
        f"measurement. A row "
        f'marked "(load X)" was measured while other work kept about X cores busy '
        f"(over {limit:g}): its times are upper bounds."
    ]


def _models_table(data: dict[str, Any], mark: _Marks) -> list[str]:
    lines = ["| what | measured | target |", "|---|---|---|"]
    record = data["records"].get("data")
    if record:
        r = record["result"]
        cell = _error(r) or f"{r['median_s']:.2f} s (median of {r['repeat']})"
        lines.append(
            f"| load all 70,000 images from the `.gz` files, verified{mark(record)} "
            f"| {cell} | {TARGETS['data']} |"
        )
    else:
        lines.append(f"| load all 70,000 images | {NOT_MEASURED} | {TARGETS['data']} |")
    models = section_records(data, "models")
    for key in ("classic_cnn", "improved_cnn"):
        record = models.get(key)
        if record is None:
            lines.append(f"| {MODEL_NAMES[key]}, full data | {NOT_MEASURED} | {TARGETS[key]} |")
            continue
        r = record["result"]
        epochs = f", {r['epochs']} epochs" if "epochs" in r else ""
        lines.append(
            f"| {MODEL_NAMES[key]}, full data{epochs}{mark(record)} | {_model_cell(r)} "
            f"| {TARGETS[key]} |"
        )
    return lines


def _reference_line() -> list[str]:
    from fmnist_utils.models import REFERENCE_INFO, reference_info

    if not REFERENCE_INFO.is_file():
        return []
    info = reference_info()
    return [
        f"The shipped weights of lesson 7's CNN score {_pct(info['test_accuracy'])} on the "
        f"10,000 test images (`{REFERENCE_INFO.relative_to(ROOT).as_posix()}`, written by "
        "`python -m fmnist_utils.tooling.train_reference`; a test checks they still do)."
    ] + _improved_line()


def _improved_line() -> list[str]:
    from fmnist_utils.models import WEIGHTS_DIR, reference_info

    path = WEIGHTS_DIR / "improved_cnn.json"
    if not path.is_file():
        return []
    info = reference_info("improved_cnn")
    load = max(info["load_average_before"][0], info["load_average_after"][0])
    accuracy = _pct(info["test_accuracy"])
    machine = f"on {cpu_name(info)} " if "cpu" in info else ""  # older records lack it
    if info.get("mirror_test"):
        accuracy = _with_mirror(accuracy, info["test_accuracy_plain"])
    return [
        "",
        f"Lesson 9's improved CNN ships too: {accuracy} on the test images "
        f"after {info['epochs']} epochs, {_seconds(info['train_seconds'])} of training "
        f"{machine}({_seconds(info['train_cpu_seconds'])} of CPU; load up to {load:.1f} during "
        "the run, "
        f"so the time is an upper bound; `{path.relative_to(ROOT).as_posix()}`, written by "
        f"`{info['command']}`).",
    ]


def _peers_table(data: dict[str, Any], mark: _Marks) -> list[str]:
    course = section_records(data, "models")
    peers = section_records(data, "peers")
    if not peers:
        return [f"Peers (`--only peers`): {NOT_MEASURED}."]
    base = course.get("classic_cnn", {}).get("result", {})
    base_cpu = cpu_name(course.get("classic_cnn", {}).get("machine", {}))
    lines = [
        "| model | weights | epochs | test accuracy | training time "
        "| vs lesson 7's CNN: accuracy, time |",
        "|---|---|---|---|---|---|",
    ]
    for key in ("classic_cnn", "improved_cnn", "tutorial_mlp", "keras_mnist_convnet"):
        record = course.get(key) or peers.get(key)
        if (
            record is None
            or "error" in record["result"]
            or (key in course and "test_accuracy" not in record["result"])
        ):
            continue
        r = record["result"]
        acc = r["test_accuracy"]["mean"] if key in course else r["test_accuracy"]
        secs = r["train_seconds"]["mean"] if key in course else r["train_seconds"]
        if key == "classic_cnn" or "test_accuracy" not in base:
            versus = "-"
        else:
            points = 100 * (acc - base["test_accuracy"]["mean"])
            ratio = secs / base["train_seconds"]["mean"]
            versus = f"{points:+.2f} points, {ratio:.2f}× the time"
            if cpu_name(record["machine"]) != base_cpu:  # a time ratio across machines
                versus = f"{points:+.2f} points; time measured on {cpu_name(record['machine'])}"
        lines.append(
            f"| {MODEL_NAMES[key]}{mark(record)} | {r['params']:,} | {r['epochs']} "
            f"| {_pct(acc)} | {_seconds(secs)} | {versus} |"
        )
    return lines


def _lessons_table(data: dict[str, Any], mark: _Marks) -> list[str]:
    from fmnist_utils.tooling.lessons import find_lessons

    notebooks = section_records(data, "notebooks")
    container = section_records(data, "container")
    lines = [
        f"| lesson | fast (`FMNIST_FAST=1`, {TARGETS['fast']}) | full (kernel CPU) "
        f"| kernel peak ({TARGETS['peak']}) | in 2 GB / 2 CPUs with JupyterLab: "
        "time, container peak |",
        "|---|---|---|---|---|",
    ]
    for lesson in find_lessons(ROOT):
        nb, box = notebooks.get(lesson.lesson_id), container.get(lesson.lesson_id)
        cells = [NOT_MEASURED] * 3
        if nb:
            fast, full = nb["result"].get("fast", {}), nb["result"].get("full", {})
            cells[0] = _error(fast) or _seconds(fast["seconds"])
            cells[1] = (
                _error(full) or f"{_seconds(full['seconds'])} ({_seconds(full['cpu_seconds'])})"
            )
            peaks = [r["peak_gib"] for r in (fast, full) if "peak_gib" in r]
            cells[2] = _gib(max(peaks)) if peaks else "-"
        if box:
            r = box["result"]
            if r.get("killed") or r.get("oom_kills"):
                envelope = f"**killed** ({r.get('oom_kills')} out-of-memory kills)"
            elif "error" in r:
                envelope = "failed (see benchmarks/results.json)"
            else:
                envelope = f"{_seconds(r['seconds'])}, {_gib(r['container_peak_gib'])}, not killed"
        else:
            envelope = NOT_MEASURED
        number = int(lesson.lesson_id.split("_", 1)[0])
        lines.append(f"| {number}{mark(nb, box)} | " + " | ".join([*cells, envelope]) + " |")
    return lines


def _grading_lines(data: dict[str, Any], mark: _Marks) -> list[str]:
    record = data["records"].get("grading")
    if record is None:
        return [f"Grading (`--only grading`): {NOT_MEASURED}."]
    r = record["result"]
    if "error" in r:
        return ["Grading: failed (see benchmarks/results.json)."]
    if "all_lessons_parallel_s" in r:
        first = (
            f"Autograding one student's submission of every lesson{mark(record)}, with "
            f"`python -m benchmarks.grading_speed`: **{_seconds(r['all_lessons_parallel_s'])}** "
            f"with the parallel grader's {r['workers']} workers (`python -m "
            f"fmnist_utils.grading.parallel` with every lesson; target {TARGETS['grading']}), "
            f"{_seconds(r['all_lessons_s'])} with one `nbgrader autograde` after another:"
        )
    else:
        first = (
            f"Autograding one student's submission of every lesson{mark(record)}, with "
            f"`python -m benchmarks.grading_speed`: **{_seconds(r['all_lessons_s'])}** in all "
            f"(target {TARGETS['grading']})."
        )
    lines = [
        first,
        "",
        "| lesson | autograde time |",
        "|---|---|",
    ]
    for lesson_id, seconds in r["per_lesson_s"].items():
        lines.append(f"| {int(lesson_id.split('_', 1)[0])} | {_seconds(seconds)} |")
    lines += [
        "",
        f"A class of {r['class_students']} on {r['class_lesson']}: "
        f"{_seconds(r['class_sequential_s'])} with one `nbgrader autograde`, "
        f"{_seconds(r['class_parallel_s'])} with {r['workers']} workers "
        f"(`python -m fmnist_utils.grading.parallel`), {r['speedup']:.2f}× faster.",
    ]
    if "class_one_worker_s" in r:
        lines[-1] += (
            f" The parallel grader with 1 worker took {_seconds(r['class_one_worker_s'])}: "
            f"{r['workers']} workers are {r['speedup_vs_one_worker']:.2f}× faster than 1 "
            f"(target {TARGETS['speedup']})."
        )
    return lines


def _breakdown_lines(data: dict[str, Any], mark: _Marks) -> list[str]:
    """Where grading one learner's whole course spends its CPU time."""
    record = data["records"].get("grading_breakdown")
    if record is None or "error" in record["result"]:
        return []
    r = record["result"]
    return [
        f"Where grading one learner's whole course spends its CPU time{mark(record)} "
        f"(`sudo .venv/bin/python -m benchmarks.grading_breakdown`, process accounting; "
        f"{r['workers']} workers, {_seconds(r['wall_s'])}, {r['cpu_s']:.0f} CPU s in all):",
        "",
        "| part | CPU s |",
        "|---|---|",
        f"| nbgrader's own steps (the grader and one job a lesson) | {r['nbgrader_cpu_s']:.0f} |",
        f"| the learners' kernels (the lessons' cells, and the learner's functions the tests "
        f"call) | {r['learner_kernels_cpu_s']:.0f} |",
        f"| the tests kernels (the hidden tests) | {r['tests_kernels_cpu_s']:.0f} |",
        "",
        f"A kernel's start alone costs {r['kernel_start_cpu_s']:.1f} CPU s and `import keras` "
        f"{r['import_keras_cpu_s']:.1f} CPU s, in every learner's kernel of the "
        f"{r['keras_lessons']} lessons that use Keras and in every tests kernel that checks a "
        f"model; the rest of the learners' kernels, about {r['lesson_cells_cpu_s']:.0f} CPU s, "
        "is the lessons' own cells in their fast setting and the functions the tests call.",
    ]


def _recipes_lines(data: dict[str, Any], mark: _Marks) -> list[str]:
    """Every candidate of lessons 7's and 9's recipe searches, with what it gave."""
    records = section_records(data, "recipes")
    if not records:
        return []
    lines = [
        "The search for lessons 7's and 9's recipes (`python -m benchmarks.run --only "
        "recipes`; the candidates are in `benchmarks/recipe_search.py`; targets "
        f"{TARGETS['classic_cnn']} for lesson 7's, {TARGETS['improved_cnn']} for lesson 9's; "
        "lesson 7's candidates are named `classic_…`):",
        "",
        "| candidate | what changes | measured |",
        "|---|---|---|",
    ]
    for key, record in sorted(records.items(), key=lambda item: item[1].get("date", "")):
        r = record["result"]
        cpu = cpu_name(record["machine"])
        lines.append(f"| `{key}`{mark(record)} | {r.get('what', '')} | {_model_cell(r)} ({cpu}) |")
    return lines


def _hub_lines(data: dict[str, Any], mark: _Marks) -> list[str]:
    record = data["records"].get("hub_sizing")
    if record is None or "error" in record["result"]:
        return []
    r = record["result"]
    lines = [f"The class hub with {r['learners']} learners at once{mark(record)}:", ""]
    for lesson, runs in r.items():
        if not isinstance(runs, dict) or lesson in ("grading", "server_pss_gib"):
            continue
        peaks = [x["peak_pss_gib"] for x in runs.values() if "peak_pss_gib" in x]
        if peaks:
            lines.append(f"- {lesson}: at most {_gib(max(peaks))} per learner (PSS)")
    return lines


def _span(values: list[float], unit: str, digits: int = 2) -> str:
    low, high = min(values), max(values)
    text = (
        f"{low:.{digits}f}"
        if round(low, digits) == round(high, digits)
        else (f"{low:.{digits}f}–{high:.{digits}f}")
    )
    return f"{text} {unit}".strip()


def _limit_gib(value: str) -> float:
    """A spawner memory limit such as ``2G`` or ``1536M`` in GiB (JupyterHub's units: 1024).

    Read here rather than with JupyterHub's own parser, which the page's readers (the
    quick tests, the site) do not install.
    """
    units = {"K": 2**-20, "M": 2**-10, "G": 1.0, "T": 2**10}
    value = value.strip().upper()
    return float(value[:-1]) * units[value[-1]] if value[-1] in units else float(value) / 2**30


def sizing_figures(result: dict[str, Any]) -> dict[str, Any]:
    """Per-learner figures of a ``hub_sizing`` record: the largest over its learners.

    Returns
    -------
    dict
        ``server_pss`` (GiB, a learner logged in, no kernel), ``lessons`` (lesson id:
        {``pss``, ``rss``, ``cgroup``: peak GiB, ``hits``: times the limit was hit}),
        ``limit`` (GiB) and ``cpu_limit`` (cores).
    """
    lessons = {
        lesson: {
            "pss": max(x["peak_pss_gib"] for x in runs.values()),
            "rss": max(x["peak_rss_gib"] for x in runs.values()),
            "cgroup": max(x.get("cgroup_peak_gib", 0.0) for x in runs.values()),
            "hits": sum(x.get("limit_hits", 0) for x in runs.values()),
        }
        for lesson, runs in result.items()
        if isinstance(runs, dict) and lesson[:2].isdigit()
    }
    return {
        "server_pss": max(result["server_pss_gib"].values()),
        "lessons": lessons,
        "limit": _limit_gib(result["mem_limit"]),
        "cpu_limit": float(result["cpu_limit"]),
    }


def render_sizing(data: dict[str, Any], *, mark_loaded: bool = False) -> str:
    """Render the hub page's sizing block: the measured run and the learners per machine."""
    record = data.get("records", {}).get("hub_sizing")
    if record is None or "error" in record["result"] or "mem_limit" not in record["result"]:
        return (
            "Not measured yet at these limits: run "
            "`sudo .venv/bin/python -m benchmarks.run --only hub_sizing`."
        )
    mark = _Marks(mark_loaded)
    loaded = mark(record)
    if mark.loaded and not mark_loaded:
        raise LoadedError(f"hub_sizing was measured under load {mark.loaded['hub_sizing']:.1f}")
    r, m = record["result"], record["machine"]
    f = sizing_figures(r)
    lessons = list(f["lessons"])
    names = [f"lesson {int(x[:2])}" + (" (`FMNIST_FAST=1`)" if x in r["fast"] else "")
             for x in lessons]  # fmt: skip

    def row(label: str, key: str, unit: str, tells: str, digits: int = 2) -> str:
        cells = [_span([x[key] for x in r[lesson].values()], unit, digits) for lesson in lessons]
        return f"| {label} | {' | '.join(cells)} | {tells} |"

    lines = [
        f"Measured on the class hub at its default limits ({r['mem_limit']} of memory and "
        f"{r['cpu_limit']:g} core per learner), {r['learners']} learners running a lesson's "
        f"solution in their own kernel at the same moment, on {cpu_name(m)}, {m.get('cores')} "
        f"cores, {m.get('memory_gib')} GiB ({record['date'][:10]}; load average "
        f"{r['load_average_start']} at the start, {r['load_average_end']} at the end{loaded}), "
        "with `sudo .venv/bin/python -m benchmarks.run --only hub_sizing`:",
        "",
        f"| per learner, {r['learners']} at once | {' | '.join(names)} | what it tells |",
        "|---|" + "---|" * len(lessons) + "---|",
        "| server alone, before any kernel (PSS) | "
        + " | ".join(_gib(f["server_pss"]) for _ in lessons)
        + " | a learner logged in but idle |",
        row("server + kernel, peak resident (RSS)", "peak_rss_gib", "GiB",
            "what the memory limit must hold"),
        row("server + kernel, peak proportional (PSS)", "peak_pss_gib", "GiB",
            "what each adds to the machine (shared libraries counted once)"),
        row("peak as the limit counts it (cgroup, file cache included)", "cgroup_peak_gib",
            "GiB", f"how close the learner came to {r['mem_limit']}"),
        row("times the memory limit was hit", "limit_hits", "", "0: nobody was stopped", 0),
        row("kernel CPU-seconds to run the lesson", "kernel_cpu_s", "s",
            "CPU per learner, whatever the load", 0),
        row("wall time, all at once", "wall_s", "s", "grows with the load", 0),
    ]  # fmt: skip
    first, last = f["lessons"][lessons[0]], f["lessons"][lessons[-1]]
    free = [(cores, gib - RESERVE_GIB) for cores, gib in MACHINES]
    lines += [
        "",
        f"Learners one machine holds at these limits, computed from the figures above (the "
        f"largest learner's; not measured with that many at once), keeping {RESERVE_GIB:g} GiB "
        f"for the system and the hub (an allowance, not a measurement). Training runs at full "
        f"speed for as many learners as there are cores (each may use {f['cpu_limit']:g}); "
        f"beyond that every training slows down in proportion. The last column holds even if "
        f"every learner uses their whole {r['mem_limit']} at once.",
        "",
        f"| machine | logged in, idle | all working through {names[0]} | all running "
        f"{names[-1]} (training at full speed) | safe whatever they run |",
        "|---|---|---|---|---|",
    ]
    for cores, gib in free:
        idle = int(gib // f["server_pss"])
        working = int(gib // first["pss"])
        by_memory = int(gib // last["pss"])
        training = f"{by_memory} ({int(cores // f['cpu_limit'])} at full speed)"
        safe = int(gib // f["limit"])
        lines.append(
            f"| {cores} cores, {gib + RESERVE_GIB:g} GiB | {idle} | {working} | {training} | "
            f"{safe} |"
        )
    return "\n".join(lines)


def render(data: dict[str, Any], *, mark_loaded: bool = False) -> str:
    """Render the measured block (without its markers) from the results file's data.

    Raises
    ------
    LoadedError
        If a record shown was measured under too much background load and
        ``mark_loaded`` is False.
    """
    data = {"records": data.get("records", {})}
    mark = _Marks(mark_loaded)
    parts = [
        _header(data),
        _models_table(data, mark),
        _reference_line(),
        [
            "Next to two well-known networks, trained in the same run on the same data "
            "(`benchmarks/peers.py` says where each comes from):"
        ],  # fmt: skip
        _peers_table(data, mark),
        [
            "Each lesson's solution notebook, run top to bottom in a fresh kernel "
            "(`fmnist_utils.tooling.profiler.run_notebook`), and in full mode inside the course "
            "image held to mybinder.org's envelope (2 GB for the whole container, 2 CPUs; "
            "`benchmarks/container.py`):"
        ],  # fmt: skip
        _lessons_table(data, mark),
        _grading_lines(data, mark),
        _breakdown_lines(data, mark),
        _recipes_lines(data, mark),
        _hub_lines(data, mark),
    ]
    if mark.loaded and not mark_loaded:
        worst = ", ".join(f"{key} (load {load:.1f})" for key, load in sorted(mark.loaded.items()))
        raise LoadedError(
            f"these figures were measured under too much background load: {worst}. "
            "Measure them again on a quiet machine, or pass --mark-loaded to show them marked."
        )
    return "\n\n".join("\n".join(part) for part in parts if part)


def replace_block(text: str, block: str, begin: str = BEGIN, end: str = END) -> str:
    """Put ``block`` between the markers in ``text``; raise if they are missing."""
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"the page lacks the markers {begin!r} ... {end!r}")
    return text[: start + len(begin)] + "\n" + block + "\n" + text[stop:]


def page_block(text: str, begin: str = BEGIN, end: str = END) -> str:
    """The text between the markers (what :func:`render` wrote)."""
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"the page lacks the markers {begin!r} ... {end!r}")
    return text[start + len(begin) : stop].strip("\n")


#: Each generated block: its page, its markers, and what renders it.
BLOCKS = ((PAGE, BEGIN, END, render), (HUB_PAGE, SIZING_BEGIN, SIZING_END, render_sizing))


def update_page(data: dict[str, Any], *, mark_loaded: bool = False) -> list[Path]:
    """Rewrite every generated block; return the pages that changed."""
    changed = []
    for path, begin, end, renderer in BLOCKS:
        text = path.read_text(encoding="utf-8")
        new = replace_block(text, renderer(data, mark_loaded=mark_loaded), begin, end)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed
