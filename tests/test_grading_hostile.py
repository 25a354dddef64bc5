"""A hostile class: one submission per attack, graded by the documented commands.

A small lesson (two exercises, hidden tests, a NumPy check through
``fmnist_utils.grading.checks``) is graded for a class in which every attacker is
followed by an honest student (``<attacker>_ok``). One ``nbgrader autograde`` run
(module fixture), then ``generate_feedback``, ``export``, ``zip_collect`` and the
parallel grader. The checks: the gradebook survives and exports; every honest student
gets full marks; every cheat scores 0 and is flagged; nothing outside the instructor
area changes mode or content; no hidden-test line, solution line or outside file in
any feedback; no student ``<script>`` in autograded notebooks or feedback; no variable
of the grading process in the kernel. The class is graded twice: as root, and by an
instructor without privileges (a throwaway system user), for whom file modes matter.
The plain-nbgrader background-process case runs through the opt-out (no sandbox) in
its own test.

A second class forges grades: each learner's wrong answer carries a cheat against
the tests (published output, altered comparison helpers, a function reading its
caller, shadowed names, the shared folder changed); the tests run in a kernel of
their own, so each cheat scores no more than the wrong answer alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from fmnist_utils.tooling.lessons import Lesson, run_nbgrader, source_notebook

from .grading_helpers import (
    Submissions,
    dump,
    export,
    grading_env_or_skip,
    integrity_ok,
    make_course,
)
from .support import skip_or_fail

pytestmark = pytest.mark.slow

L = "02_guarded"
SENTINEL = "grader-secret-7f3a91"
OUTSIDE_SECRET = "OUTSIDE-SECRET-CONTENT-5c1d"

GUARDED = textwrap.dedent(
    '''\
    # %% [markdown]
    # # A guarded lesson

    # %%
    import numpy as np

    # %% nbgrader={"grade": false, "grade_id": "double", "locked": false, "schema_version": 3, "solution": true, "task": false}
    def double(x):
        """Return twice x."""
        ### BEGIN SOLUTION
        return 2 * x  # SOLUTION-LINE-double
        ### END SOLUTION


    # %% nbgrader={"grade": true, "grade_id": "double_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
    assert double(2) == 4, "double(2) should be 4"
    ### BEGIN HIDDEN TESTS
    assert double(-7) == -14, "double(-7) should be -14"  # SECRET-HIDDEN-double
    ### END HIDDEN TESTS

    # %% nbgrader={"grade": false, "grade_id": "ramp", "locked": false, "schema_version": 3, "solution": true, "task": false}
    def ramp(n):
        """Return the n numbers 0, 2, 4, ... as a NumPy array."""
        ### BEGIN SOLUTION
        return np.arange(n) * 2  # SOLUTION-LINE-ramp
        ### END SOLUTION


    # %% nbgrader={"grade": true, "grade_id": "ramp_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
    from fmnist_utils.grading.checks import exact_array

    np.testing.assert_array_equal(exact_array(ramp(3), "ramp(3)"), [0, 2, 4])
    ### BEGIN HIDDEN TESTS
    np.testing.assert_array_equal(exact_array(ramp(5), "ramp(5)"), [0, 2, 4, 6, 8], err_msg="ramp(5)")  # SECRET-HIDDEN-ramp
    ### END HIDDEN TESTS
    '''
)
TOTAL = 3.0
BLANK_DOUBLE = "def double(x):\n    raise NotImplementedError()\n"
BLANK_RAMP = "def ramp(n):\n    raise NotImplementedError()\n"


def _cheat(hook: str, *, ramp: str = BLANK_RAMP) -> dict[str, str]:
    """Answers that solve nothing, with a hook installed in the first answer cell."""
    return {"double": textwrap.dedent(hook) + "\n" + BLANK_DOUBLE, "ramp": ramp}


CHEATS = {
    "f_transformer": _cheat(
        """
        get_ipython().input_transformers_post.append(
            lambda lines: ["pass\\n"] if any("assert" in x for x in lines) else lines
        )
        """
    ),
    "g_ast": _cheat(
        """
        import ast
        class _Swallow(ast.NodeTransformer):
            def visit_Module(self, node):
                body = [ast.Try(body=[s], handlers=[ast.ExceptHandler(type=None, name=None,
                        body=[ast.Pass()])], orelse=[], finalbody=[]) for s in node.body]
                return ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))
        get_ipython().ast_transformers.append(_Swallow())
        """
    ),
    "h_trace": _cheat(
        """
        import sys, linecache
        def _skip(frame, event, arg):
            if event == "line":
                text = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
                if text.startswith(("assert", "np.testing")):
                    try:
                        frame.f_lineno = frame.f_lineno + 1
                    except ValueError:
                        pass
            return _skip
        def _cells(frame, event, arg):
            return _skip if "ipykernel_" in frame.f_code.co_filename else None
        sys.settrace(_cells)
        """
    ),
    "i_nptesting": _cheat(
        """
        import numpy.testing
        numpy.testing.assert_array_equal = lambda *args, **kwargs: None
        """,
        ramp="def ramp(n):\n    return np.zeros(n)\n",
    ),
    "j_subclass": _cheat(
        """
        class Liar(np.ndarray):
            def __eq__(self, other):
                return np.ones(np.shape(other), dtype=bool)
            def tolist(self):
                return [0, 2, 4]
        """,
        ramp="def ramp(n):\n    return np.zeros(n).view(Liar)\n",
    ),
    "k_leak": {
        "double": textwrap.dedent(
            """
            def _leak(info):
                print("LEAK:", info.raw_cell)
                with open("leak.txt", "a") as handle:
                    handle.write(info.raw_cell)
            get_ipython().events.register("pre_run_cell", _leak)
            def double(x):
                return 2 * x
            """
        ),
        "ramp": "def ramp(n):\n    return np.arange(n) * 2\n",
    },
    "l_custom_exc": _cheat(
        """
        get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: None)
        """
    ),
}
GRADER_MEMORY_MIB = 400
"""The grading process's peak memory in the hostile class, well under its 200 MB message."""
HTML_ATTACK = textwrap.dedent(
    """
    from IPython.display import HTML, Javascript, display
    _s = "scr" + "ipt"  # the source holds no tag: only the output does
    display(HTML(f'<b>hi</b><{_s}>fetch("/api/contents/solutions")</{_s}>'
                 f'<img src=x on{"error"}="alert(1)"><{"if"}rame src="/lab"></{"if"}rame>'
                 f'<a href="java{_s}:alert(2)">x</a>'))
    display(Javascript('alert(3)'))
    """
)
ENV_PROBE = textwrap.dedent(
    """
    import os
    for _p in ("/proc/1/environ", "/proc/self/environ", "/proc/1/cmdline"):
        try:
            print(_p, open(_p, "rb").read().replace(b"\\0", b" ").decode(errors="replace"))
        except OSError as _e:
            print(_p, "blocked", _e)
    print("ENV", dict(os.environ))
    try:
        open("/dev/tty").close()
        print("TTY-OPEN")
    except OSError as _e:
        print("no tty", _e)
    """
)
LIMITS_PROBE = textwrap.dedent(
    """
    import os, time
    _kids = []
    try:
        for _ in range(400):
            _pid = os.fork()
            if _pid == 0:
                time.sleep(5)
                os._exit(0)
            _kids.append(_pid)
    except OSError as _e:
        print("FORK-BLOCKED", len(_kids), _e)
    print("FORKED", len(_kids))
    for _pid in _kids:
        os.waitpid(_pid, 0)
    for _where in ("/tmp/big", "big"):
        try:
            with open(_where, "wb") as _f:
                for _ in range(2048):
                    _f.write(b"x" * 2**20)
            print("WROTE-2GIB", _where)
        except OSError as _e:
            print("DISK-BLOCKED", _where, _e.strerror)
        finally:
            if os.path.exists(_where):
                os.remove(_where)
    """
)

UPDATES_FLOOD = textwrap.dedent(
    """
    from IPython.display import display
    for _ in range(300):  # one display id, shown 300 times, then rewritten at once
        display({"text/plain": "x"}, raw=True, display_id="same")
    display({"text/plain": "y" * 1_500_000}, raw=True, display_id="same", update=True)
    """
)
CLEARED_FLOOD = textwrap.dedent(
    """
    from IPython.display import clear_output
    for _ in range(40):
        print("z" * 500_000)
        clear_output(wait=True)
    """
)
TERMINAL_ATTACK = "\x1b]52;c;aGVsbG8=\x07\x1b[?1049h\x1bc"
ESCAPING_RAMP = (
    "def ramp(n):\n"
    f"    raise ValueError({TERMINAL_ATTACK + chr(10) + '[fmnist] a_honest: 0 / 3, late'!r})\n"
)
FORGED_NAME = "x\u2215y: 10 \u2215 10, on time\n[fmnist] 'u_escape': 3 \u2215 3, on time.txt"
FEEDBACK_ATTACK = (
    "[entity](jav&#x61;script:alert(1)) "
    '<a href="jav&#x61;script:alert(2)">tag</a> '
    "$\\style{position:fixed;top:0;left:0;width:100%;height:100%;background:red}"
    "{\\text{FAKE 10/10}}$ $\\href{javascript:alert(3)}{x}$ "
    '<div class="navbar-fixed-top">FAKE 10/10</div> ![gone](attachment:missing.png) '
    "![text](attachment:notes.txt)"
)
OVERLAY_OUTPUT = (
    "from IPython.display import HTML, display\n"
    'display(HTML(\'<div class="modal in" style="display:block">FAKE 10/10</div>\'))\n'
)


@dataclass
class Graded:
    root: Path
    db: str
    subs: Submissions
    log: str
    collect: str
    scores: dict
    before: dict[str, tuple[int, str]]
    outside: Path
    returncode: int


def _snapshot(*folders: Path, skip: Path | None = None) -> dict[str, tuple[int, str]]:
    """Mode and digest of every file below ``folders`` (not following links)."""
    out = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if skip is not None and (path == skip or skip in path.parents):
                continue
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            out[str(path)] = (st.st_mode, digest if not path.is_symlink() else "link")
    return out


def _lesson(tmp: Path, lesson_id: str = L, source: str = GUARDED) -> Lesson:
    src = tmp / "src"
    path = src / "solutions" / lesson_id / f"{lesson_id}.py"
    path.parent.mkdir(parents=True)
    path.write_text(source)
    lesson = Lesson(lesson_id, src)
    nbformat.write(source_notebook(lesson), path.with_suffix(".ipynb"))
    return lesson


def _submit_class(root: Path, subs: Submissions, outside: Path) -> list[str]:
    """Submit every attacker, each followed by an honest student; return the attackers."""
    secret = outside / "secret.txt"
    attackers = []

    def honest_after(name: str) -> None:
        attackers.append(name)
        if name in HONEST_AFTER:
            subs.submit(f"{name}_ok", subs.notebook())

    subs.submit("a_honest", subs.notebook())
    # 1. links and special files in the submitted folder
    folder = subs.folder("b_link_gradebook")
    folder.mkdir(parents=True)
    os.symlink(root / "instructor" / "gradebook.db", folder / f"{L}.ipynb")
    honest_after("b_link_gradebook")
    os.symlink(secret, subs.submit("c_link_outside", subs.notebook()).parent / "notes.txt")
    honest_after("c_link_outside")
    os.link(secret, subs.submit("d_hardlink", subs.notebook()).parent / "notes.txt")
    honest_after("d_hardlink")
    os.mkfifo(subs.submit("e_fifo", subs.notebook()).parent / "timestamp.txt")
    honest_after("e_fifo")
    # 2. and 3. hooks against the tests
    for name, answers in CHEATS.items():
        subs.submit(name, subs.notebook(answers))
        honest_after(name)
    # 4. HTML and JavaScript for the instructor
    nb = subs.notebook()
    nb.cells.append(
        nbformat.v4.new_markdown_cell(
            "Hi <script>alert('md')</script> <img src=x onerror=\"alert('img')\"> "
            "[me](javascript:alert('link')) <iframe src=\"/lab\"></iframe>"
        )
    )
    nb.cells.append(nbformat.v4.new_code_cell(HTML_ATTACK))
    subs.submit("m_html", nb)
    honest_after("m_html")
    # 5. the grader's environment and terminal
    nb = subs.notebook()
    nb.cells.append(nbformat.v4.new_code_cell(ENV_PROBE))
    subs.submit("n_env", nb)
    honest_after("n_env")
    # 6. limits: output, processes, disk, total time
    nb = subs.notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "print('x' * 1000 + '\\n', end='')\n" * 1
            + "for _ in range(30000):\n    print('y' * 1000)\n"
        )
    )
    subs.submit("o_flood", nb)
    honest_after("o_flood")
    nb = subs.notebook()
    nb.cells.append(nbformat.v4.new_code_cell(LIMITS_PROBE))
    subs.submit("p_limits", nb)
    honest_after("p_limits")
    nb = subs.notebook()
    index = next(
        i
        for i, c in enumerate(nb.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == "ramp"
    )
    for _ in range(3):
        nb.cells.insert(index, nbformat.v4.new_code_cell("import time\ntime.sleep(12)"))
    subs.submit("q_slow", nb)
    honest_after("q_slow")
    # 8. limits on what is kept, however it arrives; the grader's own memory
    nb = subs.notebook()
    nb.cells.append(nbformat.v4.new_code_cell(UPDATES_FLOOD))
    nb.cells.append(nbformat.v4.new_code_cell(CLEARED_FLOOD))
    subs.submit("s_updates", nb)
    honest_after("s_updates")
    nb = subs.notebook()
    nb.cells.append(nbformat.v4.new_code_cell("print('q' * 200_000_000)"))
    subs.submit("t_bigmsg", nb)
    honest_after("t_bigmsg")
    # 9. escape codes and look-alike names for the instructor's terminal
    path = subs.submit("u_escape", subs.notebook({"ramp": ESCAPING_RAMP}))
    (path.parent / FORGED_NAME).write_text("notes\n")
    honest_after("u_escape")
    # 10. the feedback page: entity-encoded links, TeX reaching CSS, page classes
    nb = subs.notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(FEEDBACK_ATTACK))
    nb.cells[-1].attachments = {"notes.txt": {"text/plain": "aGk="}}
    nb.cells.append(nbformat.v4.new_code_cell(OVERLAY_OUTPUT))
    subs.submit("v_feedback", nb)
    honest_after("v_feedback")
    return attackers


@pytest.fixture(scope="module", params=["root", "unprivileged"])
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """The class graded as root, and by an instructor without privileges."""
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        patch.setenv("FMNIST_HOSTILE_SENTINEL", SENTINEL)
        if request.param == "root":
            yield _grade(tmp_path_factory.mktemp("hostile"))
            return
        user = request.getfixturevalue("unprivileged_instructor")
        base = Path(tempfile.mkdtemp(prefix="fmnist-unprivileged-"))
        try:
            base.chmod(0o755)
            yield _grade(base, user)
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _nbgrader(
    args: list[str], root: Path, db: str, user: str | None
) -> subprocess.CompletedProcess:
    """Run nbgrader in the course, as root or as ``user`` (no privileges, a clean environment)."""
    if user is None:
        return run_nbgrader(args, root, db)
    env = {
        "HOME": str(root), "LANG": "C.UTF-8", "FMNIST_GRADEBOOK_URL": db,
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        **{k: v for k, v in os.environ.items() if k == "FMNIST_HOSTILE_SENTINEL"},
    }  # fmt: skip
    return subprocess.run(
        ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "env", "-i",
         *(f"{k}={v}" for k, v in env.items()), sys.executable, "-m", "nbgrader", *args],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip


def _grade(tmp: Path, user: str | None = None) -> Graded:
    root, db = make_course(tmp / "course", [_lesson(tmp)])
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(OUTSIDE_SECRET + "\n")
    (outside / "secret.txt").chmod(0o600)
    subs = Submissions(root, L)
    _submit_class(root, subs, outside)
    # 7. names and times in downloaded files
    archive = root / "instructor" / "downloaded" / L / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "downloads.zip", "w") as zf:
        text = nbformat.writes(subs.notebook())
        zf.writestr(f"..--{L}.ipynb", text)
        zf.writestr(f"r_future--2999-01-01T000000--{L}.ipynb", text)
    if user is not None:  # the course is the instructor's; the outside file stays root's
        subprocess.run(["chown", "-R", f"{user}:", str(root)], check=True)
    collect = _nbgrader(["zip_collect", L], root, db, user)
    assert collect.returncode == 0, collect.stdout + collect.stderr
    before = _snapshot(root, outside, skip=root / "instructor")
    run = _nbgrader(
        ["autograde", L, "--Execute.timeout=20", "--SandboxedExecute.notebook_timeout=30"],
        root, db, user,
    )  # fmt: skip
    log = run.stdout + run.stderr
    (tmp / "autograde.log").write_text(log)
    feedback = _nbgrader(["generate_feedback", L], root, db, user)
    assert feedback.returncode == 0, feedback.stdout + feedback.stderr
    return Graded(
        root, db, subs, log, collect.stdout + collect.stderr, export(root, db), before, outside,
        run.returncode,
    )  # fmt: skip


def _students(g: Graded) -> list[str]:
    return sorted(s for (lesson, s) in g.scores if lesson == L)


def _score(g: Graded, student: str) -> float:
    return float(g.scores[(L, student)]["score"])


def _autograded(g: Graded, student: str) -> str:
    return (g.root / "instructor" / "autograded" / student / L / f"{L}.ipynb").read_text()


def _printed(g: Graded, student: str) -> str:
    """Everything the graded notebook's cells output (not their sources)."""
    nb = nbformat.reads(_autograded(g, student), as_version=4)
    return json.dumps([c.get("outputs", []) for c in nb.cells])


def _feedback_files(g: Graded, student: str) -> list[Path]:
    folder = g.root / "instructor" / "feedback" / student / L
    return sorted(p for p in folder.rglob("*")) if folder.is_dir() else []


ATTACKERS = [
    "b_link_gradebook", "c_link_outside", "d_hardlink", "e_fifo", *CHEATS,
]  # fmt: skip
LIMITED = ["m_html", "n_env", "o_flood", "p_limits", "s_updates", "t_bigmsg", "v_feedback"]
# an honest student is graded right after each of these (and first, and last)
HONEST_AFTER = [*ATTACKERS[:4], "h_trace", "l_custom_exc", *LIMITED, "q_slow", "u_escape"]


def test_gradebook_survives_and_exports(graded: Graded) -> None:
    assert integrity_ok(graded.db)
    assert graded.returncode == 0, graded.log[-3000:]
    students = _students(graded)
    for name in ATTACKERS + LIMITED + ["q_slow", "u_escape"]:
        assert name in students, name
    for name in HONEST_AFTER:
        assert f"{name}_ok" in students, name


def test_honest_students_get_exactly_their_marks(graded: Graded) -> None:
    honest = [s for s in _students(graded) if s.endswith("_ok")] + ["a_honest", "r_future"]
    assert len(honest) == len(HONEST_AFTER) + 2
    assert {s: _score(graded, s) for s in honest} == {s: TOTAL for s in honest}
    # attacks that are not cheats (HTML, probing, limits) keep the marks earned
    assert {s: _score(graded, s) for s in LIMITED} == {s: TOTAL for s in LIMITED}


def test_every_cheat_scores_zero_and_is_flagged(graded: Graded) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(graded.db) as gb:
        for name in ATTACKERS:
            assert _score(graded, name) == 0, name
            nb = gb.find_submission_notebook(L, L, name)
            assert nb.flagged, f"{name} is not flagged in the gradebook"
            assert re.search(rf"FLAGGED {name}/{L}: (REJECTED|suspicious)", graded.log), name
        for name in [s for s in _students(graded) if s.endswith("_ok")] + LIMITED:
            assert not gb.find_submission_notebook(L, L, name).flagged, name
    for name, what in {
        "b_link_gradebook": "is a symbolic link",
        "c_link_outside": "notes.txt is a symbolic link",
        "d_hardlink": "is a hard link",
        "e_fifo": "is a fifo",
        "f_transformer": "input transformer",
        "g_ast": "AST transformer",
        "h_trace": "sys.settrace hook",
        "i_nptesting": "numpy.testing helpers replaced",
        "j_subclass": "ndarray subclass (Liar)",
        "k_leak": "pre_run_cell event callback",
        "l_custom_exc": "custom exception handler",
    }.items():
        assert re.search(rf"FLAGGED {name}/{L}:[^\n]*{re.escape(what)}", graded.log), (name, what)


def test_nothing_outside_the_instructor_area_changes(graded: Graded) -> None:
    after = _snapshot(graded.root, graded.outside, skip=graded.root / "instructor")
    assert after == graded.before
    assert (graded.outside / "secret.txt").stat().st_mode & 0o777 == 0o600
    assert not (graded.root / "instructor" / L).exists(), "zip_collect wrote above submitted/"
    assert not list((graded.root / "instructor").glob(".intake-*")), "intake copies left behind"


def test_no_hidden_test_solution_or_outside_file_in_feedback(graded: Graded) -> None:
    for student in _students(graded):
        files = _feedback_files(graded, student)
        names = [p.name for p in files if p.is_file()]
        # besides the page, only the submission's time and secret (release_feedback's)
        assert set(names) - {"timestamp.txt", "submission_secret.txt"} in ({f"{L}.html"}, set())
        assert names == [] or f"{L}.html" in names, (student, files)
        for path in files:
            if path.is_file():
                text = path.read_text(errors="replace")
                assert "SECRET-HIDDEN" not in text, f"hidden test in {student}'s feedback"
                assert OUTSIDE_SECRET not in text, f"outside file in {student}'s feedback"
                assert "SQLite format" not in text
                if student in ATTACKERS:  # their answers were blank: any solution is a leak
                    assert "SOLUTION-LINE" not in text, f"solution in {student}'s feedback"
    assert (graded.root / "instructor" / "feedback" / "k_leak" / L / f"{L}.html").is_file()


class _Live(HTMLParser):
    """The live elements of an HTML text: tags, their attributes, scripts' text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def _live_problems(html: str) -> list[str]:
    live = _Live()
    live.feed(html)
    found = [t for t, _ in live.tags if t in ("iframe", "object", "embed")]
    found += [f"{t} {k}" for t, a in live.tags for k in a if k.startswith("on")]
    found += [f"{t} {k}={v}" for t, a in live.tags for k, v in a.items() if "javascript:" in v]
    found += [s[:60] for s in live.scripts if "alert(" in s or "fetch(" in s]
    return found


def test_no_student_script_in_autograded_or_feedback(graded: Graded) -> None:
    html = (graded.root / "instructor" / "feedback" / "m_html" / L / f"{L}.html").read_text()
    nb = nbformat.reads(_autograded(graded, "m_html"), as_version=4)
    shown = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            shown.append(cell.source)
        for output in cell.get("outputs", []):
            assert "application/javascript" not in output.get("data", {})
            shown.append(output.get("data", {}).get("text/html", ""))
    assert "fetch(" in "".join(shown) and "alert('md')" in "".join(shown), "no attack ran"
    assert _live_problems("".join(shown)) == []
    assert "alert('md')" in html or "alert(&#x27;md&#x27;)" in html
    assert _live_problems(html) == []


def test_no_grader_variable_in_the_kernel(graded: Graded) -> None:
    nb = _printed(graded, "n_env")
    assert "/proc/1/environ" in nb and "ENV {" in nb, "the probe did not run"
    assert SENTINEL not in nb
    assert "FMNIST_GRADEBOOK_URL" not in nb and "gradebook.db" not in nb
    assert "TTY-OPEN" not in nb
    assert SENTINEL not in graded.log.replace(f"FMNIST_HOSTILE_SENTINEL={SENTINEL}", "")


def test_limits_per_submission(graded: Graded) -> None:
    flood = graded.root / "instructor" / "autograded" / "o_flood" / L / f"{L}.ipynb"
    assert flood.stat().st_size < 5 * 2**20, "the output cap did not hold"
    assert "[output truncated: over the grader's limit" in flood.read_text()
    probe = _printed(graded, "p_limits")
    forked = int(re.search(r"FORKED (\d+)", probe).group(1))
    assert forked < 200, f"the sandbox started {forked} processes"
    assert probe.count("DISK-BLOCKED") == 2 and "WROTE-2GIB" not in probe
    # q_slow: 36 s of sleeping against a 30 s notebook: the ramp tests were not run
    assert _score(graded, "q_slow") == 1.0
    slow = _printed(graded, "q_slow")
    # interrupted at the limit, or, on a loaded machine, not stopped in time after it
    assert "ran past its time limit (30 s in all)" in slow or "could not be stopped" in slow


def test_names_and_timestamps(graded: Graded) -> None:
    assert "could be a path" in graded.collect and '".."' in graded.collect
    assert "in the future: taken as now" in graded.collect
    assert not graded.scores[(L, "r_future")]["timestamp"].startswith("2999")


def test_kernel_files_stay_out_of_graded_copies(graded: Graded) -> None:
    folder = graded.root / "instructor" / "autograded" / "k_leak" / L
    assert not (folder / "leak.txt").exists()
    assert "SECRET-HIDDEN" not in (folder / f"{L}.ipynb").read_text().split('"source"')[0]
    for path in (graded.root / "instructor" / "autograded").rglob("*"):
        assert not path.is_symlink(), path


def test_limits_hold_on_what_is_kept(graded: Graded) -> None:
    """Display updates and clear_output keep no more than the caps; a huge message is dropped."""
    from fmnist_utils.grading.config import LIMITS

    flood = graded.root / "instructor" / "autograded" / "s_updates" / L / f"{L}.ipynb"
    assert flood.stat().st_size < LIMITS.max_notebook_output + 2**20, "display updates got past"
    updates, cleared = nbformat.read(flood, as_version=4).cells[-2:]
    shown = [o for o in updates.outputs if o.output_type == "display_data"]
    assert len(shown) == 300 and all(o.data["text/plain"] == "x" for o in shown)
    assert any(
        "[output truncated: over the grader's limit" in o.get("text", "") for o in updates.outputs
    )
    assert "y" * 1000 not in json.dumps(updates.outputs)
    assert len(json.dumps(cleared.outputs)) < LIMITS.max_cell_output
    big = graded.root / "instructor" / "autograded" / "t_bigmsg" / L / f"{L}.ipynb"
    assert big.stat().st_size < 2**20 and "q" * 10_000 not in big.read_text()
    assert "[output lost: the kernel sent a message over the grader's limit" in big.read_text()
    # the 200 MB message was refused as it arrived: the grader never held it
    peak = re.search(r"the grader's own memory peaked at (\d+) MiB", graded.log)
    assert peak is not None, graded.log[-2000:]
    assert int(peak.group(1)) < GRADER_MEMORY_MIB, (
        f"the grader's memory reached {peak.group(1)} MiB"
    )


def test_the_terminal_shows_only_the_graders_own_lines(graded: Graded) -> None:
    """A learner's escape codes are shown escaped; no name or message forges a summary line."""
    for text in (graded.log, *(p.read_text() for p in _reports(graded))):
        assert "\x1b" not in text and "\x07" not in text, "a raw escape code got through"
        assert "\u2215" not in text, "a look-alike slash got through"
    lines = graded.log.splitlines()
    assert not [
        ln for ln in lines if ln.startswith(("[fmnist] a_honest: 0", "[fmnist] 'u_escape': 3"))
    ]
    assert "\\u2215" in graded.log, "the left-out file is not named (escaped) in the log"
    assert "[fmnist] 'u_escape': 1 / 3" in graded.log
    page = (graded.root / "instructor" / "reports" / f"{L}.html").read_text()
    assert "\\x1b]52" in page, "the learner's failing message is not shown, escaped"


def _reports(g: Graded) -> list[Path]:
    return sorted((g.root / "instructor" / "reports").glob(f"{L}.*"))


def _feedback_page(g: Graded, student: str) -> str:
    return (g.root / "instructor" / "feedback" / student / L / f"{L}.html").read_text()


def test_feedback_keeps_only_the_allow_list(graded: Graded) -> None:
    """Links, TeX and classes: only allowed schemes, no style, none of the page's classes."""
    page = _feedback_page(graded, "v_feedback")
    assert "FAKE 10/10" in page, "the attack is not on the page"
    assert _live_problems(page) == []
    live = _Live()
    live.feed(page)
    learner = [(t, a) for t, a in live.tags if t.startswith("m") or "FAKE" in a.get("title", "")]
    assert not [t for t, a in learner if "style" in a], "a formula kept a style"
    classes = " ".join(a.get("class", "") for _, a in live.tags)
    assert "navbar-fixed-top" not in classes and "modal" not in classes.split()
    assert "\\style{" in page or "\\style{" in html_unescape(page), (
        "the formula is not shown as text"
    )


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


@pytest.mark.browser
def test_feedback_in_chromium_has_no_live_link_or_overlay(graded: Graded) -> None:
    """Chromium, after its own decoding: no javascript: link, nothing covers the page."""
    from .browser import CHROMIUM_ARGS, VIEWPORT, require_browser

    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    path = graded.root / "instructor" / "feedback" / "v_feedback" / L / f"{L}.html"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        found = page.evaluate(
            """() => ({
                links: [...document.links].filter(a => a.protocol !== 'http:' &&
                    a.protocol !== 'https:' && a.protocol !== 'file:' &&
                    a.protocol !== 'mailto:').map(a => a.href),
                covering: [...document.querySelectorAll('body *')].filter(e => {
                    const s = getComputedStyle(e), r = e.getBoundingClientRect();
                    return (s.position === 'fixed' || s.position === 'absolute') &&
                        r.width > innerWidth / 2 && r.height > innerHeight / 2;
                }).map(e => e.outerHTML.slice(0, 80)),
                styled: document.querySelectorAll('math [style], math[style]').length,
            })"""
        )
        for link in page.locator("a").all():
            if link.is_visible():
                link.click(timeout=2000, no_wait_after=True)
        browser.close()
    assert found == {"links": [], "covering": [], "styled": 0}, found
    assert dialogs == []


def test_parallel_grader_with_links(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        _parallel(tmp_path)


def _parallel(tmp_path: Path) -> None:
    students = ["a_honest", "b_link_gradebook", "c_link_outside", "k_leak", "z_honest"]
    root, db = make_course(tmp_path / "course", [_lesson(tmp_path)])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(OUTSIDE_SECRET)
    (outside / "secret.txt").chmod(0o600)
    subs = Submissions(root, L)
    subs.submit("a_honest", subs.notebook())
    subs.submit("z_honest", subs.notebook())
    subs.submit("k_leak", subs.notebook(CHEATS["k_leak"]))
    folder = subs.folder("b_link_gradebook")
    folder.mkdir(parents=True)
    os.symlink(root / "instructor" / "gradebook.db", folder / f"{L}.ipynb")
    os.symlink(
        outside / "secret.txt",
        subs.submit("c_link_outside", subs.notebook()).parent / "notes.txt",
    )
    before = _snapshot(root, outside, skip=root / "instructor")
    env = dict(os.environ, FMNIST_GRADEBOOK_URL=db)
    run = subprocess.run(
        [sys.executable, "-m", "fmnist_utils.grading.parallel", L, "--workers", "2"],
        cwd=root, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert integrity_ok(db)
    assert _snapshot(root, outside, skip=root / "instructor") == before
    scores = {s: float(export(root, db)[(L, s)]["score"]) for s in students}
    assert scores == {"a_honest": 3.0, "b_link_gradebook": 0.0, "c_link_outside": 0.0,
                      "k_leak": 0.0, "z_honest": 3.0}  # fmt: skip
    flagged = {row[0] for row in dump(db) if row[3] == "timestamp"}
    assert flagged  # the merge wrote every submission
    from nbgrader.api import Gradebook

    with Gradebook(db) as gb:
        assert [s for s in students if gb.find_submission_notebook(L, L, s).flagged] == [
            "b_link_gradebook", "c_link_outside", "k_leak"
        ]  # fmt: skip


def _running_with(text: str) -> list[int]:
    """The processes whose command line holds ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def test_opt_out_kills_what_a_kernel_left_running(tmp_path: Path) -> None:
    """Plain nbgrader's background-process case, through the documented opt-out."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FMNIST_FAST", raising=False)
        patch.setenv("FMNIST_UNSANDBOXED_GRADING", "1")
        # no bwrap on PATH: the sandbox is unavailable, the opt-out applies
        patch.setenv("PATH", str(Path(sys.executable).parent))
        root, db = make_course(tmp_path / "course", [_lesson(tmp_path)])
        subs = Submissions(root, L)
        target = root / "instructor" / "autograded" / "b_next" / L / f"{L}.ipynb"
        daemon = textwrap.dedent(
            f"""
            import subprocess, sys
            subprocess.Popen([sys.executable, "-c", '''
            import os, time
            if os.fork():
                os._exit(0)
            os.setsid()
            for _ in range(600):
                try:
                    open({str(target)!r}, "w").write("{{}}")
                except OSError:
                    pass
                time.sleep(0.1)
            '''], start_new_session=True)
            """
        )
        nb = subs.notebook()
        nb.cells.append(nbformat.v4.new_code_cell(daemon))
        subs.submit("a_daemon", nb)
        subs.submit("b_next", subs.notebook())
        run = run_nbgrader(["autograde", L], root, db)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "grading WITHOUT a sandbox" in run.stdout + run.stderr
        scores = export(root, db)
        assert float(scores[(L, "b_next")]["score"]) == TOTAL
        assert json.loads(target.read_text())["cells"], "the graded notebook was overwritten"
        assert not _running_with(str(target)), "a background process outlived its kernel"
        shutil.rmtree(root)


# --- forging a grade: the tests run in a trusted kernel, the learner's code answers --------
F = "03_forgery"
FORGERY = textwrap.dedent(
    '''\
    # %% [markdown]
    # # A lesson to forge

    # %%
    import numpy as np

    # %% nbgrader={"grade": false, "grade_id": "counts", "locked": false, "schema_version": 3, "solution": true, "task": false}
    def counts(y, k=4):
        """Count the labels 0 to k - 1 in y."""
        ### BEGIN SOLUTION
        return np.bincount(y, minlength=k)
        ### END SOLUTION


    # %% nbgrader={"grade": true, "grade_id": "counts_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
    """Check counts."""
    np.testing.assert_array_equal(counts(np.array([0, 1, 1])), [1, 2, 0, 0], err_msg="[0, 1, 1]")
    ### BEGIN HIDDEN TESTS
    np.testing.assert_array_equal(counts(np.array([3, 3]), k=5), [0, 0, 0, 2, 0], err_msg="SECRET-HIDDEN-counts")
    ### END HIDDEN TESTS

    # %% nbgrader={"grade": false, "grade_id": "halve", "locked": false, "schema_version": 3, "solution": true, "task": false}
    def halve(x):
        """Return x / 2."""
        ### BEGIN SOLUTION
        return x / 2
        ### END SOLUTION


    # %% nbgrader={"grade": true, "grade_id": "halve_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
    """Check halve."""
    np.testing.assert_allclose(halve(np.array([2.0, 4.0])), [1.0, 2.0])
    ### BEGIN HIDDEN TESTS
    assert np.allclose(halve(np.arange(4.0)), [0, 0.5, 1, 1.5]), "SECRET-HIDDEN-halve"
    ### END HIDDEN TESTS
    '''
)
F_TOTAL = 3.0
WRONG_COUNTS = "def counts(y, k=4):\n    return np.zeros(k, dtype=np.int64)\n"


def _wrong_with(cheat: str, *, after: str = "") -> dict[str, str]:
    """The wrong answer to ``counts``, with ``cheat`` run inside it; ``after``: a later cell."""
    body = textwrap.indent(textwrap.dedent(cheat).strip(), "    ")
    return {
        "counts": f"def counts(y, k=4):\n{body}\n    return np.zeros(k, dtype=np.int64)\n",
        "after": after,
    }


SHOW_STOLEN = "print('STOLEN:', globals().get('STOLEN'))\n"
# Each is a wrong answer with a cheat: it must score no more than the same wrong answer.
FORGERIES = {
    # output published from the learner's function while a test calls it
    "pub_display": _wrong_with(
        "from IPython.display import display\ndisplay({'text/plain': '2'}, raw=True)"
    ),
    "pub_displayhook": _wrong_with("import sys\nsys.displayhook(2)"),
    "pub_session": _wrong_with(
        """
        k = get_ipython().kernel
        k.session.send(k.iopub_socket, "execute_result",
                       {"data": {"text/plain": "2"}, "metadata": {}, "execution_count": 9},
                       parent=k.get_parent(), ident=b"execute_result")
        """
    ),
    "pub_then_raise": {
        "counts": "def counts(y, k=4):\n"
        "    from IPython.display import display\n"
        "    display({'text/plain': '2'}, raw=True)\n"
        "    raise ValueError('no')\n",
    },
    # comparison helpers altered, by any route
    "cmp_code": {
        "counts": WRONG_COUNTS
        + "np.testing.assert_array_equal.__code__ = (lambda *a, **k: None).__code__\n",
    },
    "cmp_private": {
        "counts": WRONG_COUNTS + "import numpy.testing._private.utils as _u\n"
        "_u.assert_array_compare = lambda *a, **k: None\n",
    },
    "cmp_numpy_attr": {
        "counts": WRONG_COUNTS + "np.array_equal = lambda *a, **k: True\n"
        "np.asarray = lambda *a, **k: np.zeros(4)\nnp.isnan = lambda x: True\n",
    },
    "cmp_inside_call": _wrong_with(
        "import numpy.testing\nnumpy.testing.assert_array_equal = lambda *a, **k: None"
    ),
    # a function that reads its caller, and a later cell that prints what it read
    "read_frames": _wrong_with(
        """
        import sys
        global STOLEN
        f, seen = sys._getframe(1), []
        while f is not None:
            seen.append(repr(f.f_code.co_consts) + repr(f.f_locals.keys()))
            f = f.f_back
        STOLEN = " ".join(seen)
        """,
        after=SHOW_STOLEN,
    ),
    "read_inspect": _wrong_with(
        """
        import inspect, linecache
        global STOLEN
        STOLEN = repr([fr.code_context for fr in inspect.stack(context=60)])
        STOLEN += repr(list(linecache.cache.values()))
        """,
        after=SHOW_STOLEN,
    ),
    "read_history": _wrong_with(
        """
        global STOLEN
        ip = get_ipython()
        STOLEN = repr(ip.user_ns.get("In")) + repr(list(ip.history_manager.get_range()))
        """,
        after=SHOW_STOLEN,
    ),
    # the folder the tests share with the learner's kernel, changed under them
    "tamper_shared": _wrong_with(
        """
        import os, sys
        global STOLEN
        f, tried = sys._getframe(1), []
        while f is not None:
            for v in list(f.f_locals.values()):
                if isinstance(v, str) and v.endswith(".sock"):
                    folder = os.path.dirname(v)
                    for act in (lambda: open(os.path.join(folder, "planted"), "w"),
                                lambda: os.unlink(v)):
                        try:
                            act()
                            tried.append("CHANGED")
                        except OSError as e:
                            tried.append(f"refused-{e.errno}")
            f = f.f_back
        STOLEN = f"tamper {tried}"
        """,
        after=SHOW_STOLEN,
    ),
    # names the tests use, shadowed at the notebook's level
    "shadow_np": {
        "counts": WRONG_COUNTS
        + textwrap.dedent(
            """
            import types
            class _Testing:
                def __getattr__(self, name):
                    return lambda *a, **k: None
            _fake = types.SimpleNamespace(**{n: getattr(np, n) for n in dir(np) if not n.startswith("__")})
            _fake.testing = _Testing()
            _fake.allclose = lambda *a, **k: True
            np = _fake
            """
        ),
    },
    "shadow_builtins": {
        "counts": WRONG_COUNTS + "isinstance = lambda *a: True\nAssertionError = KeyError\n"
        "import builtins\nbuiltins.AssertionError = KeyError\n",
    },
}


@dataclass
class Forged:
    root: Path
    log: str
    scores: dict
    returncode: int


def _submit_forgeries(subs: Submissions) -> None:
    """An honest learner, the wrong answer alone, and every forgery."""
    subs.submit("honest", subs.notebook())
    subs.submit("wrong", subs.notebook({"counts": WRONG_COUNTS}))
    for name, answers in FORGERIES.items():
        nb = subs.notebook({k: v for k, v in answers.items() if k != "after"})
        if answers.get("after"):
            nb.cells.append(nbformat.v4.new_code_cell(answers["after"]))
        subs.submit(name, nb)


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> Forged:
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        tmp = tmp_path_factory.mktemp("forged")
        root, db = make_course(tmp / "course", [_lesson(tmp, F, FORGERY)])
        _submit_forgeries(Submissions(root, F))
        run = run_nbgrader(["autograde", F], root, db)
        feedback = run_nbgrader(["generate_feedback", F], root, db)
        assert feedback.returncode == 0, feedback.stdout + feedback.stderr
        yield Forged(root, run.stdout + run.stderr, export(root, db), run.returncode)


def _forged_score(g: Forged, student: str) -> float:
    return float(g.scores[(F, student)]["score"])


def test_the_baseline_is_what_the_answers_earn(forged: Forged) -> None:
    """The honest learner gets every point, the wrong answer only halve's."""
    assert forged.returncode == 0, forged.log[-3000:]
    assert _forged_score(forged, "honest") == F_TOTAL
    assert _forged_score(forged, "wrong") == 1.0


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_a_cheat_scores_no_more_than_its_wrong_answer(forged: Forged, name: str) -> None:
    """Published output, altered helpers, a read caller or a shadowed name earn nothing."""
    assert _forged_score(forged, name) <= _forged_score(forged, "wrong"), forged.log[-2000:]
    graded = forged.root / "instructor" / "autograded" / name / F / f"{F}.ipynb"
    nb = nbformat.read(graded, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "counts_tests":
            kinds = [o.output_type for o in cell.outputs]
            assert "execute_result" not in kinds and "display_data" not in kinds, cell.outputs


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_no_hidden_line_reaches_the_learner(forged: Forged, name: str) -> None:
    """No learner's cell printed a hidden test's text, and the feedback holds none."""
    graded = forged.root / "instructor" / "autograded" / name / F / f"{F}.ipynb"
    cells = nbformat.read(graded, as_version=4).cells
    tests = ("counts_tests", "halve_tests")  # the instructor sees the hidden tests' failures
    outputs = json.dumps(
        [
            c.get("outputs", [])
            for c in cells
            if c.metadata.get("nbgrader", {}).get("grade_id") not in tests
        ]
    )
    assert "SECRET-HIDDEN" not in outputs
    page = forged.root / "instructor" / "feedback" / name / F / f"{F}.html"
    assert page.is_file()
    assert "SECRET-HIDDEN" not in page.read_text()
    if name.startswith("read_"):
        assert "STOLEN:" in outputs, "the cheat's printing cell did not run"


def test_the_learner_cannot_change_the_folder_it_shares_with_the_tests(forged: Forged) -> None:
    """The channel's folder is read-only in the learner's sandbox: no file planted, no
    socket replaced (errno 30: read-only file system)."""
    graded = forged.root / "instructor" / "autograded" / "tamper_shared" / F / f"{F}.ipynb"
    printed = json.dumps([c.get("outputs", []) for c in nbformat.read(graded, as_version=4).cells])
    assert "tamper ['refused-30', 'refused-30'" in printed, printed[-2000:]
    assert "CHANGED" not in printed


GRADER_USER = "fmnist-test-grader"
GRADER_MARK = "fmnist test grader"  # the user's comment: made by this test, safe to reuse


@pytest.fixture(scope="module")
def unprivileged_instructor() -> Iterator[str]:
    """A user with no privileges, as an instructor on a shared machine (removed after)."""
    import pwd

    if os.geteuid() != 0:
        skip_or_fail("making the unprivileged instructor needs root")
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None:
            skip_or_fail(f"`{tool}` is missing")
    try:
        entry = pwd.getpwnam(GRADER_USER)
    except KeyError:
        made = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", "--comment", GRADER_MARK, GRADER_USER],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    else:  # left by a run that was killed: ours, so reused
        if entry.pw_gecos != GRADER_MARK:
            skip_or_fail(f"a user {GRADER_USER} exists that this test did not make")
    try:
        yield GRADER_USER
    finally:
        subprocess.run(["userdel", GRADER_USER], capture_output=True, check=False)


def test_forgeries_fail_for_an_unprivileged_instructor(unprivileged_instructor: str) -> None:
    """The same class, graded by an instructor without root (file modes then matter)."""
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        base = Path(tempfile.mkdtemp(prefix="fmnist-unprivileged-"))
        try:
            base.chmod(0o755)
            root, db = make_course(base / "course", [_lesson(base, F, FORGERY)])
            _submit_forgeries(Submissions(root, F))
            subprocess.run(["chown", "-R", f"{unprivileged_instructor}:", str(base)], check=True)
            done = _nbgrader(["autograde", F], root, db, unprivileged_instructor)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
            import pwd

            uid = pwd.getpwnam(unprivileged_instructor).pw_uid
            graded = list((root / "instructor" / "autograded").rglob("*.ipynb"))
            assert len(graded) == len(FORGERIES) + 2
            assert {p.stat().st_uid for p in graded} == {uid}, "not graded as the instructor"
            scores = {s: float(row["score"]) for (_, s), row in export(root, db).items()}
            assert scores["honest"] == F_TOTAL and scores["wrong"] == 1.0, scores
            cheats = {name: scores[name] for name in FORGERIES}
            assert all(score <= 1.0 for score in cheats.values()), cheats
        finally:
            shutil.rmtree(base, ignore_errors=True)


# --- a class with broken submissions: the others are graded, the broken ones named --------
BROKEN = {
    "not_json": "is not a notebook file (not JSON",
    "too_many_cells": "cells, over the limit of",
    "old_format": "only 4 is graded",
    "huge": "over the limit of 25 MiB",
    "deleted_cells": "nbgrader stopped on an error: KeyError",
}
WRONG_DOUBLE = "def double(x):\n    return x\n"


def _submit_broken_class(subs: Submissions) -> dict[str, float]:
    """Submit 20 learners, 5 broken a different way each; return the 15 others' scores."""
    expected = {}
    for i in range(10):
        subs.submit(f"ok{i:02d}", subs.notebook())
        expected[f"ok{i:02d}"] = TOTAL
    for name in ("wrong1", "wrong2"):
        subs.submit(name, subs.notebook({"double": WRONG_DOUBLE}))
        expected[name] = TOTAL - 1
    # odd but gradeable: changed grading metadata, a timestamp.txt folder, an unsafe name
    nb = subs.notebook()
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "double":
            cell.metadata["nbgrader"]["schema_version"] = 1
            twin = nbformat.from_dict(json.loads(json.dumps(cell)))  # its grade id twice
            twin.id = "twin"
            nb.cells.append(twin)
            break
    subs.submit("odd_metadata", nb)
    (subs.submit("stamp_folder", subs.notebook()).parent / "timestamp.txt").mkdir()
    path = subs.submit("odd_name", subs.notebook())
    (path.parent / "notes\x1b[2J\u2215.txt").write_text("mine\n")
    expected.update(odd_metadata=TOTAL, stamp_folder=TOTAL, odd_name=TOTAL)
    # broken, each its own way
    subs.folder("not_json").mkdir(parents=True)
    (subs.folder("not_json") / f"{L}.ipynb").write_text('{"cells": [')
    nb = subs.notebook()
    nb.cells += [nbformat.v4.new_markdown_cell("more") for _ in range(1000)]
    subs.submit("too_many_cells", nb)
    old = json.loads(nbformat.writes(subs.notebook()))
    old["nbformat"] = 3
    subs.folder("old_format").mkdir(parents=True)
    (subs.folder("old_format") / f"{L}.ipynb").write_text(json.dumps(old))
    nb = subs.notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("x" * (26 * 2**20)))
    subs.submit("huge", nb)
    nb = subs.notebook()
    nb.cells = [c for c in nb.cells if "nbgrader" not in c.metadata]
    subs.submit("deleted_cells", nb)
    return expected


@dataclass
class BrokenRun:
    log: str
    scores: dict
    report: list[dict[str, str]]
    dump: list
    digests: dict[str, tuple[int, str]]


@dataclass
class BrokenClass:
    expected: dict[str, float]
    first: BrokenRun
    again: BrokenRun


def _broken_state(root: Path, db: str, log: str) -> BrokenRun:
    import csv

    with open(root / "instructor" / "reports" / f"{L}.csv", newline="") as handle:
        report = list(csv.DictReader(handle))
    return BrokenRun(
        log, export(root, db), report, dump(db), _snapshot(root / "instructor" / "autograded")
    )


def _grade_broken(tmp: Path, grader: str, user: str | None) -> BrokenClass:
    root, db = make_course(tmp / "course", [_lesson(tmp)])
    subs = Submissions(root, L)
    expected = _submit_broken_class(subs)
    if user is not None:
        subprocess.run(["chown", "-R", f"{user}:", str(root)], check=True)
    runs = []
    for _ in range(2):  # the second run: nothing left to do, nothing changes
        if grader == "nbgrader":
            done = _nbgrader(["autograde", L], root, db, user)
        else:
            done = _as(user, [sys.executable, "-m", "fmnist_utils.grading.parallel", L,
                              "--workers", "2"], root, db)  # fmt: skip
        assert done.returncode in (0, 1), done.stdout + done.stderr
        runs.append(_broken_state(root, db, done.stdout + done.stderr))
    return BrokenClass(expected, *runs)


def _as(user: str | None, argv: list[str], root: Path, db: str) -> subprocess.CompletedProcess:
    """Run a command in the course as root or as ``user`` (a clean environment)."""
    env = {"HOME": str(root), "LANG": "C.UTF-8", "FMNIST_GRADEBOOK_URL": db,
           "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}  # fmt: skip
    prefix = [] if user is None else [
        "setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"
    ]  # fmt: skip
    return subprocess.run(
        [*prefix, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module", params=["nbgrader-root", "parallel-root",
                                        "nbgrader-unprivileged", "parallel-unprivileged"])  # fmt: skip
def broken(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> BrokenClass:
    """A class of 20 with 5 broken submissions, graded twice by one grader, as one user."""
    grader, who = request.param.split("-")
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        if who == "root":
            return _grade_broken(tmp_path_factory.mktemp("broken"), grader, None)
        user = request.getfixturevalue("unprivileged_instructor")
        base = Path(tempfile.mkdtemp(prefix="fmnist-broken-"))
        base.chmod(0o755)
        try:
            return _grade_broken(base, grader, user)
        finally:
            shutil.rmtree(base, ignore_errors=True)


def test_a_broken_submission_stops_no_one(broken: BrokenClass) -> None:
    """The 15 others get exactly their marks; each broken one scores 0."""
    scores = {s: float(row["score"]) for (lesson, s), row in broken.first.scores.items()}
    assert {s: scores.get(s) for s in broken.expected} == broken.expected
    assert {s: scores.get(s, 0.0) for s in BROKEN} == dict.fromkeys(BROKEN, 0.0)


def test_the_summary_and_report_name_each_broken_one_and_why(broken: BrokenClass) -> None:
    rows = {row["student_id"]: row for row in broken.first.report}
    for student, why in BROKEN.items():
        assert student in rows, f"{student} is missing from the report"
        assert why in rows[student]["flags"], (student, rows[student]["flags"])
        said = [ln for ln in broken.first.log.splitlines() if student in ln and why in ln]
        assert said, f"the run's output does not say why {student} was not graded"
    for student in broken.expected:
        assert rows[student]["graded"] == "yes", student
    assert "\x1b" not in broken.first.log and "\u2215" not in broken.first.log


def test_a_rerun_changes_nothing(broken: BrokenClass) -> None:
    first, again = broken.first, broken.again
    assert again.dump == first.dump
    assert again.report == first.report
    assert again.digests == first.digests


# --- hand-in times: a receipt the learner cannot set ------------------------------------
@pytest.mark.parametrize("who", ["root", "unprivileged"])
def test_lateness_comes_from_the_receipt_not_the_learners_file(
    who: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A learner's own timestamp.txt backdated to 2020 is late by its receipt, and flagged."""
    user = None if who == "root" else request.getfixturevalue("unprivileged_instructor")
    base = tmp_path if user is None else Path(tempfile.mkdtemp(prefix="fmnist-late-"))
    base.chmod(0o755)
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        try:
            _grade_backdated(base, user)
        finally:
            if user is not None:
                shutil.rmtree(base, ignore_errors=True)


def _grade_backdated(tmp_path: Path, user: str | None) -> None:
    """Backdated claims in hand copies, a mailed one with the instructor's receipt, a zip."""
    root, db = make_course(tmp_path / "course", [_lesson(tmp_path)])
    due = "2026-01-01 00:00:00 UTC"
    done = run_nbgrader(["db", "assignment", "add", L, f"--duedate={due}"], root, db)
    assert done.returncode == 0, done.stdout + done.stderr
    subs = Submissions(root, L)
    for student in ("backdated", "mailed_late"):  # both claim to be from 2020
        path = subs.submit(student, subs.notebook())
        (path.parent / "timestamp.txt").write_text("2020-01-01 00:00:00 UTC\n")
    # the instructor records when the mail came: after the due date
    received = [sys.executable, "-m", "fmnist_utils.grading.receipts", L, "mailed_late",
                "2026-01-02 09:00:00 UTC"]  # fmt: skip
    done = subprocess.run(received, cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # zip_collect: the learning system's time, before the due date, is the receipt
    archive = root / "instructor" / "downloaded" / L / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "downloads.zip", "w") as zf:
        zf.writestr(f"lms_on_time--2025-12-31T120000--{L}.ipynb", nbformat.writes(subs.notebook()))
    if user is not None:
        subprocess.run(["chown", "-R", f"{user}:", str(root)], check=True)
    assert _nbgrader(["zip_collect", L], root, db, user).returncode == 0
    run = _nbgrader(["autograde", L], root, db, user)
    assert run.returncode == 0, run.stdout + run.stderr
    scores = export(root, db)
    # a claim is never a hand-in time: without a receipt, the time is unknown
    assert scores[(L, "backdated")]["timestamp"] in ("", "None")
    assert scores[(L, "mailed_late")]["late"] == "yes"
    assert scores[(L, "mailed_late")]["timestamp"].startswith("2026-01-02 09:00:00")
    assert scores[(L, "lms_on_time")]["timestamp"].startswith("2025-12-31")
    import csv

    with open(root / "instructor" / "reports" / f"{L}.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert rows["backdated"]["learner_timestamp"].startswith("2020-01-01")
    assert "hand-in time unknown" in rows["backdated"]["flags"]
    assert (
        rows["mailed_late"]["late"] == "yes" and rows["mailed_late"]["received_by"] == "instructor"
    )
    assert "own timestamp.txt says 2020-01-01" in rows["mailed_late"]["flags"]
    assert (
        rows["lms_on_time"]["late"] == "no" and rows["lms_on_time"]["received_by"] == "zip_collect"
    )


def test_a_backdated_exchange_submission_is_late_by_its_receipt(tmp_path: Path) -> None:
    """Through nbgrader's exchange: the inbound folder's name, file times and timestamp.txt
    all say 2020; the receipt is when its files last changed, and the export says late."""
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        root, db = make_course(tmp_path / "course", [_lesson(tmp_path)])
        exchange = tmp_path / "exchange"
        exchange.mkdir(mode=0o777)
        exchange.chmod(0o777)
        flags = [f"--Exchange.root={exchange}", "--CourseDirectory.course_id=hostile",
                 "--CourseDirectory.release_directory=instructor/release"]  # fmt: skip
        due = "2026-01-01 00:00:00 UTC"
        for args in (["db", "assignment", "add", L, f"--duedate={due}"],
                     ["release_assignment", L, "--force", *flags]):  # fmt: skip
            done = run_nbgrader(args, root, db)
            assert done.returncode == 0, done.stdout + done.stderr
        home = tmp_path / "learner"
        home.mkdir()
        import pwd

        learner = pwd.getpwuid(os.getuid()).pw_name  # nbgrader's id for who submits
        for args in (["fetch_assignment", L, *flags], ["submit", L, *flags]):
            done = run_nbgrader(args, home, db)
            assert done.returncode == 0, done.stdout + done.stderr
        # the learner's own process backdates everything it can set
        [inbound] = (exchange / "hostile" / "inbound").iterdir()
        (inbound / "timestamp.txt").write_text("2020-01-01 00:00:00.000000 UTC")
        for path in [*inbound.rglob("*"), inbound]:
            os.utime(path, (1577836800, 1577836800), follow_symlinks=False)
        forged = inbound.with_name(
            inbound.name.split("+")[0] + f"+{L}+2020-01-01 00:00:00.000000 UTC+x"
        )
        inbound.rename(forged)
        done = run_nbgrader(["collect", L, *flags], root, db)
        assert done.returncode == 0, done.stdout + done.stderr
        run = run_nbgrader(["autograde", L], root, db)
        assert run.returncode == 0, run.stdout + run.stderr
        row = export(root, db)[(L, learner)]
        assert row["late"] == "yes" and not row["timestamp"].startswith("2020"), row
        import csv

        with open(root / "instructor" / "reports" / f"{L}.csv", newline="") as handle:
            rows = {r["student_id"]: r for r in csv.DictReader(handle)}
        assert rows[learner]["received_by"] == "exchange"
        assert rows[learner]["learner_timestamp"].startswith("2020-01-01")
