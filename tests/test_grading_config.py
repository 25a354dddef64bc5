"""The grading setup without grading: config, sandbox wrapper, feedback filter."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from fmnist_utils.grading import sandbox
from fmnist_utils.grading.config import LIMITS
from fmnist_utils.grading.feedback import StripHiddenTests

from .conftest import ROOT


def _load_config(root: Path = ROOT):
    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def test_loading_the_config_changes_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # JupyterLab's nbgrader extension loads this file in the process learners' kernels
    # inherit their environment from: it must not make them fast, or change anything.
    monkeypatch.delenv("FMNIST_FAST", raising=False)
    monkeypatch.setattr(sys, "argv", ["jupyter-lab"])
    before = dict(os.environ)
    config = _load_config()
    assert dict(os.environ) == before
    assert "FMNIST_FAST" not in os.environ
    steps = config.Autograde.autograde_preprocessors
    assert "fmnist_utils.grading.sandbox.SandboxedExecute" in steps
    assert not any(str(s).endswith(".Execute") for s in steps)


def test_config_settings() -> None:
    config = _load_config()
    cd = config.CourseDirectory
    assert (cd.source_directory, cd.release_directory) == ("solutions", "lessons")
    assert cd.submitted_directory == "instructor/submitted"
    assert cd.autograded_directory == "instructor/autograded"
    assert cd.feedback_directory == "instructor/feedback"
    assert "*.py" in cd.ignore
    assert config.Execute.timeout == 120 and config.Execute.interrupt_on_timeout
    assert config.OverwriteCells.add_missing_cells is True
    assert config.LateSubmissionPlugin.penalty_method == "none"
    steps = [s.rsplit(".", 1)[-1] for s in config.GenerateFeedback.preprocessors]
    # exercises are named from the full test cells (where a check failed), then the
    # test outputs are reduced while the hidden regions are still there to withhold;
    # student HTML is made inert before the course renders math into the page
    assert (
        steps.index("ExerciseTitles")
        < steps.index("FeedbackTestOutputs")
        < steps.index("StripHiddenTests")
        < steps.index("SanitizeOutputs")
        < steps.index("RenderMath")
        < steps.index("GetGrades")
    )


def test_gradebook_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        _load_config().CourseDirectory.db_url == f"sqlite:///{ROOT / 'instructor' / 'gradebook.db'}"
    )
    monkeypatch.setenv("FMNIST_GRADEBOOK_URL", "postgresql://u:p@db/fmnist")
    assert _load_config().CourseDirectory.db_url == "postgresql://u:p@db/fmnist"


def test_zip_names_are_read(tmp_path: Path) -> None:
    import re

    from nbgrader.utils import parse_utc

    regexp = _load_config().FileNameCollectorPlugin.named_regexp
    m = re.match(regexp, "/x/extracted/sub/alice.b--2025-03-08T091507--01_pixels_and_labels.ipynb")
    assert m and m["student_id"] == "alice.b" and m["timestamp"] == "2025-03-08T091507"
    assert str(parse_utc(m["timestamp"])) == "2025-03-08 09:15:07"
    assert m["file_id"] == "01_pixels_and_labels.ipynb"
    m = re.match(regexp, "bob--01_pixels_and_labels.ipynb")
    assert m and m["student_id"] == "bob" and m["timestamp"] is None


def _wrapper(monkeypatch: pytest.MonkeyPatch, course: Path):
    module = sandbox._wrapper()
    monkeypatch.setenv("FMNIST_SANDBOX_COURSE_ROOT", str(course))
    monkeypatch.setenv("FMNIST_SANDBOX_RO_PATHS", str(sandbox.PACKAGE_DIR))
    monkeypatch.setenv("FMNIST_GRADEBOOK_URL", "postgresql://u:secret@db/x")
    monkeypatch.setenv("JPY_PARENT_PID", "4242")
    for key, value in LIMITS.sandbox_environment().items():
        monkeypatch.setenv(key, value)
    return module


def test_the_wrapper_takes_its_limits_from_the_grader_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The limits are set in one place (config.LIMITS); without them no kernel starts."""
    module = _wrapper(monkeypatch, tmp_path)
    assert module._mib("FMNIST_SANDBOX_MEM_MB") == LIMITS.memory_mb * 2**20
    monkeypatch.delenv("FMNIST_SANDBOX_MEM_MB")
    with pytest.raises(SystemExit):
        module._mib("FMNIST_SANDBOX_MEM_MB")
    assert "FMNIST_SANDBOX_MEM_MB is not set" in capsys.readouterr().err
    kernel = json.loads((sandbox.KERNELS_DIR / sandbox.KERNEL_NAME / "kernel.json").read_text())
    assert "env" not in kernel, "limits belong in fmnist_utils/grading/config.py only"


def test_kernel_environment_is_an_allow_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    module = _wrapper(monkeypatch, tmp_path)
    env = module.kernel_env()
    assert env["FMNIST_FAST"] == "1" and env["HOME"] == "/tmp" and env["JPY_PARENT_PID"] == "1"
    assert "FMNIST_GRADEBOOK_URL" not in env and "FMNIST_SANDBOX_RO_PATHS" not in env
    assert not any("secret" in v for v in env.values())


def test_sandbox_shows_the_package_not_the_repository(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    module = _wrapper(monkeypatch, tmp_path)
    args = module.bwrap_args(str(tmp_path / "cwd"), str(tmp_path / "run"))
    binds = {args[i + 1] for i, a in enumerate(args) if a in ("--ro-bind", "--bind")}
    assert str(sandbox.PACKAGE_DIR) in binds
    assert str(ROOT) not in binds and str(ROOT / "solutions") not in binds
    assert all(not str(ROOT).startswith(b.rstrip("/") + "/") for b in binds if b != "/")
    assert "--unshare-all" in args and ("--remount-ro", "/") == tuple(
        args[args.index("--remount-ro") : args.index("--remount-ro") + 2]
    )


def test_sandbox_refuses_to_show_the_course(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _wrapper(monkeypatch, sandbox.PACKAGE_DIR / "grading")
    with pytest.raises(SystemExit):
        module.extra_ro_paths()


def test_kernel_gets_the_data_and_package_without_changing_os_environ() -> None:
    before = dict(os.environ)
    env = sandbox.SandboxedExecute(course_root=str(ROOT)).kernel_environment()
    assert dict(os.environ) == before
    paths = env["FMNIST_SANDBOX_RO_PATHS"].split(os.pathsep)
    assert str(sandbox.PACKAGE_DIR) in paths
    assert env["FMNIST_SANDBOX_PYTHONPATH"] == str(sandbox.PACKAGE_DIR.parent)
    folder = sandbox.data_folder()
    if folder is not None:
        assert str(folder) in paths and env["FMNIST_DATA_DIR"] == str(folder)


@pytest.mark.slow
def test_autograde_refuses_without_a_sandbox(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    env = {k: v for k, v in os.environ.items() if k != sandbox.OPT_OUT_VAR}
    env["PATH"] = f"{fake.parent}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", "01_x"],
        cwd=course, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "REFUSING to autograde" in done.stderr and "Permission denied" in done.stderr
    assert sandbox.OPT_OUT_VAR in done.stderr
    env[sandbox.OPT_OUT_VAR] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", "01_x"],
        cwd=course, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "REFUSING" not in done.stderr  # it goes on (and finds nothing to grade)


def test_feedback_strips_hidden_tests_and_their_tracebacks() -> None:
    cell = nbformat.v4.new_code_cell(
        "assert f(1) == 2, 'f(1)'\n### BEGIN HIDDEN TESTS\nassert f(-5) == 99, 'secret'\n"
        "### END HIDDEN TESTS\n",
        metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1, "solution": False,
                               "locked": True, "schema_version": 3}},
    )  # fmt: skip
    cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="secret",
            traceback=["\x1b[0;31m----> 3 assert f(-5) == 99, 'secret'\x1b[0m"],
        )
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    out, _ = StripHiddenTests().preprocess(nb, {})
    text = str(out.cells[0])
    assert "f(-5)" not in text and "f(1) == 2" in text
    assert out.cells[0].outputs[0].traceback[0] == "AssertionError: secret"


def test_kernel_output_relay_drops_tensorflow_chatter() -> None:
    """The grading log shows what the student's kernel printed, not TensorFlow's start-up."""
    import logging
    import time

    from fmnist_utils.grading.limits import relay_output

    lines: list[str] = []
    log = logging.getLogger("test-relay")
    log.propagate = False
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    code = (
        "import sys\n"
        "sys.stderr.write('WARNING: All log messages before absl::InitializeLog() is called "
        "are written to STDERR\\n')\n"
        "sys.stderr.write('I0000 00:00:1796057515.224320       2 cudart_stub.cc:31] Could not "
        "find cuda drivers on your machine, GPU will not be used.\\n')\n"
        "sys.stderr.write('student says hi\\n')\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    relay_output(process, "alice/01", log)
    process.wait(timeout=60)
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the relay threads finish reading
    assert lines == ["[kernel stderr of alice/01, student's output] student says hi"], lines


def test_feedback_folder_gets_the_submissions_time_and_secret_only(tmp_path: Path) -> None:
    """generate_feedback leaves the graded folder's files out, but not what release needs."""
    from traitlets.config import Config

    from fmnist_utils.grading import config as grading

    c = Config()
    c.CourseDirectory.root = str(tmp_path)
    c.CourseDirectory.feedback_directory = "instructor/feedback"
    c.CourseDirectory.ignore = [".*"]
    grading.apply(c, tmp_path, ["nbgrader", "generate_feedback", "L1"])
    assert "*" in c.CourseDirectory.ignore
    hook = c.GenerateFeedback.post_convert_hook
    graded = {}
    for student in ("ann", "ben", "cy"):
        graded[student] = tmp_path / "instructor" / "autograded" / student / "L1"
        graded[student].mkdir(parents=True)
        (tmp_path / "instructor" / "feedback" / student / "L1").mkdir(parents=True)
    (graded["ann"] / "timestamp.txt").write_text("2030-01-02 03:04:05 UTC")
    (graded["ann"] / "submission_secret.txt").write_text("f00d" * 32)
    (graded["ann"] / "notes.txt").write_text("the student's")
    (graded["ben"] / "timestamp.txt").symlink_to(tmp_path / "elsewhere.txt")
    (tmp_path / "elsewhere.txt").write_text("2030-01-02 03:04:05 UTC")
    for folder in graded.values():
        hook(assignment="L1", student="*", notebooks=[str(folder / "L1.ipynb")])
    feedback = tmp_path / "instructor" / "feedback"
    assert (feedback / "ann" / "L1" / "timestamp.txt").read_text() == "2030-01-02 03:04:05 UTC"
    assert (feedback / "ann" / "L1" / "submission_secret.txt").read_text() == "f00d" * 32
    assert sorted(p.name for p in (feedback / "ann" / "L1").iterdir()) == [
        "submission_secret.txt",
        "timestamp.txt",
    ]
    assert not (feedback / "ben" / "L1" / "timestamp.txt").exists(), "a link was followed"
    assert not (feedback / "cy" / "L1" / "timestamp.txt").exists()


def test_scratch_of_gone_grading_processes_is_removed_and_the_rest_kept(tmp_path: Path) -> None:
    """A killed run's /tmp folders go; a running one's, links and others' names stay."""
    from fmnist_utils.grading import leftovers

    dead = subprocess.Popen(["true"])
    dead.wait()
    me = os.getpid()
    start = leftovers._start_time(me)
    names = {
        "running": f"fmg-{me}.{start}-a1",
        "running copy": f"fmg-in-{me}.{start}-a2",
        "killed": f"fmg-{dead.pid}.{start}-b1",
        "killed copy": f"fmg-in-{dead.pid}.{start}-b2",
        "pid reused": f"fmg-{me}.{start - 1}-c1",
        "not ours": "fmg-legacy-d1",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
        (tmp_path / name / "k.json").write_text("{}")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("a link must not be followed")
    (tmp_path / f"fmg-{dead.pid}.{start}-link").symlink_to(outside)
    removed = leftovers.remove_leftover_scratch(tmp_path)
    gone = {"killed", "killed copy", "pid reused"}
    assert sorted(p.name for p in removed) == sorted(names[k] for k in gone)
    for what, name in names.items():
        assert (tmp_path / name).exists() == (what not in gone), what
    assert (outside / "keep.txt").exists(), "a link was followed"


def test_the_package_map_names_every_grading_module() -> None:
    """fmnist_utils/grading/__init__.py maps every module of the package, and no other."""
    import re

    import fmnist_utils.grading as grading

    folder = Path(grading.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    named = set(re.findall(r"grading\.(\w+)`", grading.__doc__ or ""))
    assert named == modules, f"unmapped: {modules - named}; not modules: {named - modules}"
