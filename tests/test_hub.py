"""A class on JupyterHub (hub/, docs/instructors/hub.md), offline checks and the whole term.

The end-to-end test runs as root: it creates an instructor and five learners (explicit,
unused uids) with the guide's own commands, starts the hub on free loopback ports,
and drives a term through each learner's own server (the REST endpoints JupyterLab's
Assignments panel calls; one learner, ada, through the panel itself in Chromium):
release, fetch, edit, submit (one twice, one late, one hostile), collect, autograde in
the sandbox as the instructor, feedback, export. It removes its users, processes and
folders even when it fails. Each step's time goes to tests/artifacts/hub-timings.json,
and each instructor command's start time to the hub's log (tests/artifacts/hub.log).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest

from benchmarks import page, results
from benchmarks.hub_sizing import user_memory

from .conftest import ROOT
from .grading_helpers import Submissions, sandbox_or_skip
from .hub_browser import HubLearner, hub_learner
from .hub_support import (
    COURSE_GROUPS,
    LESSON,
    OWNER_FILE,
    Hub,
    clear_killed_tests,
    hub_settings_env,
    login,
    make_certificate,
    new_test_state,
    remove_user,
    run_in_terminal,
    tear_down,
)
from .support import guide_blocks

sys.path.insert(0, str(ROOT / "hub"))
import fmnist_hub
import limits
import start_singleuser

IN_CI = os.environ.get("CI", "").lower() == "true"


def _skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must run the hub test: {reason}")
    pytest.skip(reason)


# --- offline checks ----------------------------------------------------------------------


def test_roster_reads_id_name_email(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text('id,name,email\nada,"Lovelace, Ada",ada@example.org\n\nbo,Bo,bo@x.org\n')
    learners = fmnist_hub.read_roster(roster)
    assert [(x.id, x.name, x.email, x.line) for x in learners] == [
        ("ada", "Lovelace, Ada", "ada@example.org", 2),
        ("bo", "Bo", "bo@x.org", 4),
    ]


def test_roster_errors_name_every_bad_line(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "id,name,email\nada,Ada,ada@example.org\nAda Lovelace,Ada,ada@x.org\n"
        "bo,Bo,not-an-email\nada,Ada again,a2@x.org\ncy,Cy\n,,\n"
    )
    with pytest.raises(fmnist_hub.HubError) as error:
        fmnist_hub.read_roster(roster)
    message = str(error.value)
    assert str(roster) in message and "nothing was changed" in message
    assert "line 3: id `Ada Lovelace` is not a valid login name" in message
    assert "line 4: `not-an-email` is not an email address" in message
    assert "line 5: id `ada` is already on line 2" in message
    assert "line 6: expected 3 columns" in message
    assert "line 2" not in message.replace("on line 2", "")
    roster.write_text("login,email\nada,ada@x.org\n")
    with pytest.raises(fmnist_hub.HubError, match="line 1: the header must be `id,name,email`"):
        fmnist_hub.read_roster(roster)


def test_learners_config_names_the_course_and_the_exchange(tmp_path: Path) -> None:
    course_config = (ROOT / "nbgrader_config.py").read_text()
    assert f'c.CourseDirectory.course_id = "{fmnist_hub.COURSE_ID}"' in course_config
    settings = fmnist_hub.Settings(state=tmp_path)
    text = fmnist_hub.learner_nbgrader_config(settings)
    namespace: dict[str, Any] = {}
    from traitlets.config import Config

    config = Config()
    exec(compile(text, "nbgrader_config.py", "exec"), {"get_config": lambda: config}, namespace)
    assert config.CourseDirectory.course_id == fmnist_hub.COURSE_ID
    assert config.Exchange.root == str(tmp_path / "exchange")
    assert config.ExchangeSubmit.add_random_string is True


def _load_hub_config(state: Path, monkeypatch: pytest.MonkeyPatch):
    from traitlets.config.loader import PyFileConfigLoader

    monkeypatch.setenv("FMNIST_HUB_STATE", str(state))
    monkeypatch.setenv("FMNIST_HUB_PORT", "18123")
    (state / "private").mkdir(parents=True, exist_ok=True)
    (state / "private" / "admin-token").write_text("t0ken\n")
    loader = PyFileConfigLoader("jupyterhub_config.py", path=str(ROOT / "hub"))
    return loader.load_config()


def test_hub_config_listens_on_loopback_with_the_course(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _load_hub_config(tmp_path, monkeypatch)
    assert config.JupyterHub.bind_url == "http://127.0.0.1:18123"
    assert config.JupyterHub.hub_ip == "127.0.0.1"
    assert config.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert config.ConfigurableHTTPProxy.command == [
        str(ROOT / "hub" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")
    ]
    assert config.JupyterHub.authenticator_class.__name__ == "CourseAuthenticator"
    assert config.LocalAuthenticator.create_system_users is True
    assert config.Spawner.cmd[-1] == str(tmp_path / "bin" / "start_singleuser.py")
    services = {s["name"]: s for s in config.JupyterHub.services}
    assert services["fmnist-admin"]["api_token"] == "t0ken"
    assert any("--timeout=3600" in arg for arg in services["idle-culler"]["command"])
    roles = {r["name"]: r for r in config.JupyterHub.load_roles}
    assert "delete:servers" in roles["idle-culler"]["scopes"]
    assert "access:servers" not in roles["instructor"]["scopes"]


def test_config_d_replaces_the_authenticator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.d").mkdir()
    (tmp_path / "config.d" / "10-login.py").write_text(
        'c.JupyterHub.authenticator_class = "shared-password"\n'
        'c.SharedPasswordAuthenticator.user_password = "a class password"\n'
    )
    config = _load_hub_config(tmp_path, monkeypatch)
    assert config.JupyterHub.authenticator_class == "shared-password"
    assert config.SharedPasswordAuthenticator.user_password == "a class password"


def test_lessons_are_copied_without_replacing_anything(tmp_path: Path) -> None:
    source = tmp_path / "lessons"
    (source / "01_a").mkdir(parents=True)
    (source / "01_a" / "01_a.ipynb").write_text("fresh")
    (source / "02_b").mkdir()
    (source / "02_b" / "02_b.ipynb").write_text("fresh b")
    home = tmp_path / "home"
    assert len(start_singleuser.copy_missing(source, home / "lessons")) == 2
    (home / "lessons" / "01_a" / "01_a.ipynb").write_text("my work")
    (home / "lessons" / "02_b" / "02_b.ipynb").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (source / "03_c").mkdir()
    (source / "03_c" / "03_c.ipynb").write_text("new lesson")
    (home / "lessons" / "03_c").symlink_to(elsewhere)  # a link made by the learner
    copied = start_singleuser.copy_missing(source, home / "lessons")
    assert copied == [home / "lessons" / "02_b" / "02_b.ipynb"]
    assert (home / "lessons" / "01_a" / "01_a.ipynb").read_text() == "my work"
    assert (home / "lessons" / "02_b" / "02_b.ipynb").read_text() == "fresh b"
    assert list(elsewhere.iterdir()) == [], "a link in the learner's home was followed"


# --- the whole term, as root ---------------------------------------------------------------


def _as_user(name: str, code: str) -> Any:
    """Run Python code as a user (no privileges); returns what it prints as JSON."""
    done = subprocess.run(
        ["setpriv", f"--reuid={name}", f"--regid={name}", "--init-groups", sys._base_executable,
         "-c", code],
        capture_output=True, text=True, check=False, cwd="/",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


PROBE = """
import json, os, sys
results = {}
for kind, path in json.loads(sys.argv[1]):
    try:
        if kind == "list":
            os.listdir(path)
        else:
            open(path, "rb").read(10)
        results[path] = "allowed"
    except OSError as error:
        results[path] = type(error).__name__
print(json.dumps(results))
"""


def _probe(name: str, checks: list[tuple[str, Path]]) -> dict[str, str]:
    argv = ["probe", json.dumps([(kind, str(path)) for kind, path in checks])]
    return _as_user(name, f"import sys\nsys.argv = {argv!r}\n" + PROBE)


def _instructor(hub: Hub, name: str, script: str) -> str:
    """Run a script as the instructor, in a real terminal of their JupyterLab; its output."""
    code, output = run_in_terminal(hub, name, script)
    with open(hub.log, "a") as handle:
        handle.write(f"\n--- in {name}'s terminal:\n{script}\n{output}\n")
    assert code == 0, output[-6000:]
    return output


@pytest.fixture
def hub_env(tmp_path: Path):
    """Users, state, ports for one hub; everything removed afterwards, pass or fail."""
    if os.geteuid() != 0:
        _skip_or_fail("the hub test creates users and runs JupyterHub: run it as root")
    for tool in ("useradd", "userdel", "chpasswd", "setpriv"):
        if shutil.which(tool) is None:
            _skip_or_fail(f"`{tool}` is missing")
    roster_text = guide_blocks("csv")[0]
    learners = [row["id"] for row in csv.DictReader(io.StringIO(roster_text))]
    names = ["teacher", *learners]
    clear_killed_tests(names)  # a run killed before its clean-up left its users
    existing = [n for n in names if subprocess.run(["id", n], capture_output=True).returncode == 0]
    if existing:
        _skip_or_fail(
            f"users {existing} already exist on this machine; the test will not touch them"
        )
    state = new_test_state()
    settings_env = hub_settings_env(state)
    groups_before = {
        g for g in COURSE_GROUPS
        if subprocess.run(["getent", "group", g], capture_output=True).returncode == 0
    }  # fmt: skip
    root_home = tmp_path / "root-home"
    root_home.mkdir()
    (root_home / "roster.csv").write_text(roster_text)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "FMNIST_"))}
    env.update(settings_env, HOME=str(root_home))
    with pytest.MonkeyPatch.context() as patch:
        for key, value in settings_env.items():
            patch.setenv(key, value)
        hub = Hub(fmnist_hub.Settings(), env, tmp_path / "hub.log", root_home)
        try:
            try:
                fmnist_hub.check_environment(hub.settings)
                fmnist_hub.check_proxy(hub.settings)
            except fmnist_hub.HubError as error:
                _skip_or_fail(str(error))
            sandbox_or_skip()
            yield hub, learners
        finally:
            tear_down(hub, names, groups_before, state)
            with suppress(OSError):
                shutil.copy(hub.log, ROOT / "tests" / "artifacts" / "hub.log")


def _score_in(html: str) -> str:
    text = re.sub(r"<[^>]+>", "", html)
    match = re.search(r"Score:\s*([0-9.]+)\s*/\s*([0-9.]+)", text)
    assert match, "the feedback shows no score"
    return match.group(1)


@pytest.fixture
def browser_learner(hub_env) -> Iterator[HubLearner]:
    """The first learner's Chromium tab on the hub (closed before the hub stops)."""
    hub, learners = hub_env
    with hub_learner(hub.base, learners[0]) as tab:
        yield tab


@pytest.mark.slow
@pytest.mark.browser
def test_a_term_on_the_hub(hub_env, browser_learner: HubLearner) -> None:
    hub, learners = hub_env
    ada, bruno, chen, eve = learners
    settings = hub.settings
    root_blocks = guide_blocks("bash hub-root")
    (start_block,) = guide_blocks("bash hub-start")
    release_block, grade_block = guide_blocks("bash hub-instructor")
    timings: dict[str, float] = {}
    (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)

    def lap(label: str, began: float) -> None:
        """Record how long a step took (tests/artifacts/hub-timings.json), pass or fail."""
        timings[label] = round(time.monotonic() - began, 1)
        timings["load average"] = os.getloadavg()[0]
        (ROOT / "tests" / "artifacts" / "hub-timings.json").write_text(
            json.dumps(timings, indent=2)
        )

    # --- the guide's set-up, as root: the instructor, the learners, the hub --------------
    began = time.monotonic()
    for block in root_blocks:
        done = subprocess.run(
            ["bash", "-c", "set -euxo pipefail\n" + block], cwd=ROOT, env=hub.env,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    first_uid = int(hub.env["FMNIST_HUB_FIRST_UID"])
    for name in ["teacher", *learners]:
        entry = pwd.getpwnam(name)
        assert entry.pw_uid >= first_uid, f"{name} got uid {entry.pw_uid}, not from {first_uid}"
        assert stat.S_IMODE(os.stat(entry.pw_dir).st_mode) == 0o700, f"{name}'s home is not private"
    assert stat.S_IMODE(settings.exchange.stat().st_mode) == 0o1777
    assert stat.S_IMODE(settings.private.stat().st_mode) == 0o700
    assert b"\r" not in (settings.private / "initial-passwords.csv").read_bytes(), (
        "the passwords file has Unix line endings, so `cut -d, -f2` gives a password that works"
    )
    with open(settings.private / "initial-passwords.csv", newline="") as handle:
        passwords = {row["id"]: row["password"] for row in csv.DictReader(handle)}
    assert sorted(passwords) == sorted(["teacher", *learners])
    hub.start(start_block)
    lap("set up and start", began)

    # everything listens on loopback only
    import psutil

    ports = {settings.port, settings.hub_port, settings.proxy_api_port}
    listening = [
        c for c in psutil.net_connections("inet") if c.status == "LISTEN" and c.laddr.port in ports
    ]
    assert {c.laddr.port for c in listening} == ports
    assert {c.laddr.ip for c in listening} <= {"127.0.0.1"}, listening

    # a learner signs in with the initial password; a wrong one is refused
    status, cookies = login(hub, ada, passwords[ada])
    assert status == 302 and "jupyterhub-hub-login" in cookies, (status, cookies)
    assert login(hub, ada, passwords[ada] + "x")[0] == 403

    began = time.monotonic()
    hub.spawn("teacher", *learners)  # the instructor works in a terminal of theirs
    lap("spawn 4 servers", began)
    # every learner's server runs inside their own cgroups, at the hub's limits
    import psutil

    for name in learners:
        uid = pwd.getpwnam(name).pw_uid
        theirs = {p.pid for p in psutil.process_iter(["uids"]) if p.info["uids"].real == uid}
        assert theirs and theirs <= limits.members(limits.cgroup_folders(name)), (name, theirs)
    # each learner's JupyterLab server, just started, no kernel: within the measured sizing
    pss = {name: user_memory(pwd.getpwnam(name).pw_uid)["pss"] for name in learners}
    timings["server memory GiB (max)"] = round(max(pss.values()), 3)
    sizing = page.sizing_figures(results.read()["records"]["hub_sizing"]["result"])
    assert max(pss.values()) <= sizing["server_pss"] + 0.05, (
        f"a server takes more than the measured sizing (docs/instructors/hub.md) says: {pss}"
    )
    # --- one learner's runaway allocation stops at their limit; the others keep running ----
    began = time.monotonic()
    status, session = hub.user_call(bruno, "POST", "/api/sessions", {
        "path": f"lessons/{LESSON}/{LESSON}.ipynb", "type": "notebook",
        "kernel": {"name": "python3"},
    })  # fmt: skip
    assert status == 201, session
    kernel = session["kernel"]["id"]
    code, output = run_in_terminal(hub, ada, "python -c \"b = b'x' * (3 * 2**30)\"")
    assert code == 137, (code, output[-1000:])  # SIGKILL: her limit is FMNIST_HUB_MEM_LIMIT
    status, state = hub.user_call(bruno, "GET", f"/api/kernels/{kernel}")
    assert status == 200 and state["execution_state"] != "dead", state
    assert hub.user_call(ada, "GET", "/api/status")[0] == 200, "her own server survives too"
    hub.user_call(bruno, "DELETE", f"/api/sessions/{session['id']}")
    lap("one runaway learner stopped at the memory limit", began)

    # learners have the lessons, and no instructor tools (test_instructors_get_their_tools)
    status, listing = hub.user_call(ada, "GET", f"/api/contents/lessons/{LESSON}")
    assert status == 200 and f"{LESSON}.ipynb" in {x["name"] for x in listing["content"]}
    assert hub.user_call(ada, "GET", "/formgrader/api/assignments")[0] == 404
    _, lab = hub.user_call(ada, "GET", "/lab")
    assert '"@jupyter/nbgrader:formgrader"' in lab.split('"disabledExtensions"')[1][:300]

    # --- the instructor releases lesson 1 (the guide's commands) ---------------------------
    began = time.monotonic()
    _instructor(hub, "teacher", release_block)
    lap("generate and release", began)
    course = Path(pwd.getpwnam("teacher").pw_dir) / "course"

    # --- learners fetch, edit and submit through their own servers -------------------------
    # ada in Chromium, through the Assignments panel; the others through the endpoints
    # its buttons call
    nb_path = f"{fmnist_hub.COURSE_ID}/{LESSON}/{LESSON}.ipynb"
    began = time.monotonic()
    for name in learners:
        status, listed = hub.user_call(
            name, "GET", f"/assignments?course_id={fmnist_hub.COURSE_ID}"
        )
        assert status == 200 and [a["assignment_id"] for a in listed["value"]] == [LESSON], listed
        assert listed["value"][0]["status"] == "released"
        if name != ada:
            hub.nbgrader_action(name, "fetch")
    lap("list and fetch x3", began)
    began = time.monotonic()
    browser_learner.sign_in(passwords[ada])
    browser_learner.open_assignments()
    browser_learner.fetch(LESSON)
    lap("browser: sign in, open the Assignments panel, fetch", began)
    began = time.monotonic()
    fetched = Path(pwd.getpwnam(ada).pw_dir) / nb_path
    subs = Submissions(ROOT, LESSON, release=fetched)
    last = subs.exercises[-1]
    secrets_paths = [
        course / "instructor" / "gradebook.db",
        course / "solutions" / LESSON / f"{LESSON}.py",
        Path(pwd.getpwnam(bruno).pw_dir) / nb_path,
    ]
    hostile = (
        "_leaked = []\n"
        f"for _p in {[str(p) for p in secrets_paths]!r}:\n"
        "    try:\n"
        "        _leaked.append(open(_p, 'rb').read(100))\n"
        "    except OSError as _e:\n"
        "        print('read blocked:', _p, type(_e).__name__)\n"
        "if not _leaked:\n"
        "    raise PermissionError('nothing to copy the answer from')\n"
        + subs.solution(last.answer_id)
    )
    work = {
        ada: subs.notebook(),  # perfect: the solution's code
        bruno: subs.notebook({last.answer_id: subs.wrong(last.answer_id)}),  # partial, twice
        chen: subs.notebook(blank=True),  # blank, after the due date
        eve: subs.notebook({last.answer_id: hostile}),  # hostile
    }
    expected = {
        ada: subs.total,
        bruno: subs.total - last.points,
        chen: 0.0,
        eve: subs.total - last.points,  # every read is blocked, so her last answer fails
    }

    def hand_in(name: str, nb) -> None:
        body = {"type": "notebook", "format": "json", "content": nb}
        assert hub.user_call(name, "PUT", f"/api/contents/{nb_path}", body)[0] == 200
        if name == ada:  # she opens her work from the panel, then presses Submit
            browser_learner.open_notebook(LESSON)
            browser_learner.submit(LESSON)
        else:
            hub.nbgrader_action(name, "submit")

    hand_in(bruno, subs.notebook())  # bruno submits twice: a perfect one first, then his own
    time.sleep(1.1)
    for name in (ada, bruno, eve):
        hand_in(name, work[name])
    time.sleep(1.1)
    due = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    _instructor(
        hub, "teacher", f'cd ~/course && nbgrader db assignment add {LESSON} --duedate="{due}"'
    )
    time.sleep(1.1)
    hand_in(chen, work[chen])
    lap("edit, submit x5 (one in the browser), set the due date", began)

    # --- privacy ---------------------------------------------------------------------------
    exchange = settings.exchange / fmnist_hub.COURSE_ID
    inbound = sorted(p.name for p in (exchange / "inbound").iterdir())
    assert len([n for n in inbound if n.startswith(f"{bruno}+")]) == 2, inbound
    for name in inbound:
        _student, assignment, _stamp, random_part = name.split("+")
        assert assignment == LESSON and len(random_part) >= 12, name
    bruno_submission = next(
        exchange / "inbound" / n / f"{LESSON}.ipynb" for n in inbound if n.startswith(f"{bruno}+")
    )
    seen = _probe(
        ada,
        [
            ("list", exchange / "inbound"),
            ("list", Path(pwd.getpwnam(bruno).pw_dir)),
            ("read", Path(pwd.getpwnam(bruno).pw_dir) / nb_path),
            ("list", course),
            ("read", course / "instructor" / "gradebook.db"),
            ("read", course / "solutions" / LESSON / f"{LESSON}.py"),
            ("list", settings.private),
            # the course folder the hub runs from: its solutions and hidden tests
            ("read", ROOT / "solutions" / LESSON / f"{LESSON}.py"),
            ("list", ROOT),
        ],
    )
    assert set(seen.values()) == {"PermissionError"}, seen
    # not even with the full name of a submission's folder, random part included
    # (fmnist_utils.grading.exchange.PrivateSubmit); the instructors read it
    assert _probe(ada, [("read", bruno_submission)])[str(bruno_submission)] == "PermissionError"
    assert _probe("teacher", [("read", bruno_submission)])[str(bruno_submission)] == "allowed"
    # a learner's token opens only their own server
    assert hub.call("GET", f"/user/{bruno}/api/contents", hub.token(ada))[0] == 403
    assert hub.call("GET", f"/user/{ada}/api/contents", hub.token(ada))[0] == 200

    # --- collect, autograde in the sandbox as the instructor, feedback, export -------------
    began = time.monotonic()
    _instructor(hub, "teacher", grade_block)
    lap("collect, grade x4, feedback, export", began)
    teacher_uid = pwd.getpwnam("teacher").pw_uid
    for path in (course / "instructor").rglob("*"):
        assert path.lstat().st_uid == teacher_uid, f"{path} is not the instructor's"
    collected = (course / "instructor" / "submitted" / bruno / LESSON / "timestamp.txt").read_text()
    latest = max(n.split("+")[2] for n in inbound if n.startswith(f"{bruno}+"))
    assert collected.strip() == latest, "collect took bruno's last submission"
    with open(course / "instructor" / "grades.csv", newline="") as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle) if r["assignment"] == LESSON}
    assert sorted(rows) == sorted(learners)
    for name in learners:
        assert float(rows[name]["score"]) == expected[name], (name, rows[name], expected[name])
        assert float(rows[name]["max_score"]) == subs.total
    roster = {r["id"]: r for r in csv.DictReader(io.StringIO(guide_blocks("csv")[0]))}
    for name in learners:  # the roster's names and emails reached the gradebook
        first, _, last = roster[name]["name"].partition(" ")
        seen_row = (rows[name]["first_name"], rows[name]["last_name"], rows[name]["email"])
        assert seen_row == (first, last, roster[name]["email"]), seen_row
    assert rows[chen]["timestamp"] > rows[chen]["duedate"], "chen handed in late"
    for name in (ada, bruno, eve):
        assert rows[name]["timestamp"] < rows[name]["duedate"], f"{name} handed in on time"
    graded_eve = course / "instructor" / "autograded" / eve / LESSON / f"{LESSON}.ipynb"
    eve_outputs = json.dumps(nbformat.read(graded_eve, as_version=4).cells)
    assert "read blocked" in eve_outputs and "nothing to copy the answer from" in eve_outputs

    # --- each learner fetches their own feedback -------------------------------------------
    began = time.monotonic()
    feedback = exchange / "feedback"
    assert _probe(ada, [("list", feedback)])[str(feedback)] == "PermissionError"
    browser_learner.fetch_feedback(LESSON)
    for name in learners:
        if name != ada:
            hub.nbgrader_action(name, "fetch_feedback")
        home = Path(pwd.getpwnam(name).pw_dir)
        pages = sorted((home / fmnist_hub.COURSE_ID / LESSON / "feedback").rglob("*.html"))
        assert len(pages) == 1, (name, pages)
        assert float(_score_in(pages[0].read_text())) == expected[name], name
        assert pages[0].stat().st_uid == pwd.getpwnam(name).pw_uid
    lap("fetch feedback x4", began)

    # --- work survives a server restart and a hub restart ----------------------------------
    note = "My own note, written in lesson 1."
    lesson_copy = f"/api/contents/lessons/{LESSON}/{LESSON}.ipynb"
    _, model = hub.user_call(ada, "GET", lesson_copy)
    mine = nbformat.from_dict(model["content"])
    mine.cells.append(nbformat.v4.new_markdown_cell(note))
    body = {"type": "notebook", "format": "json", "content": mine}
    assert hub.user_call(ada, "PUT", lesson_copy, body)[0] == 200

    def ada_still_has_her_work() -> None:
        status, model = hub.user_call(ada, "GET", lesson_copy)
        assert status == 200 and model["content"]["cells"][-1]["source"] == note
        status, model = hub.user_call(ada, "GET", f"/api/contents/{nb_path}")
        assert status == 200
        assert [c["source"] for c in model["content"]["cells"]] == [
            c.source for c in work[ada].cells
        ]
        status, listed = hub.user_call(ada, "GET", f"/assignments?course_id={fmnist_hub.COURSE_ID}")
        assert status == 200 and listed["success"], listed
        # the Assignments panel's list: her submission, with the feedback she fetched
        handed_in = [s for a in listed["value"] for s in a.get("submissions", [])]
        assert len(handed_in) == 1, listed
        assert handed_in[0].get("has_local_feedback") is True, listed

    began = time.monotonic()
    hub.stop_server(ada)
    hub.spawn(ada)
    ada_still_has_her_work()
    lap("restart a server", began)
    began = time.monotonic()
    servers_before = {
        p.pid for p in psutil.process_iter(["username", "cmdline"])
        if p.info["username"] == ada and "singleuser" in " ".join(p.info["cmdline"] or [])
    }  # fmt: skip
    assert servers_before, "ada's server runs"
    hub.stop()
    lap("stop the hub", began)
    assert all(psutil.pid_exists(pid) for pid in servers_before), (
        "a hub restart must leave learners' servers running"
    )
    began = time.monotonic()
    hub.start(start_block)
    ada_still_has_her_work()  # the same server, found again: no new spawn
    lap("start the hub, find the servers again", began)

    # --- HTTPS from the hub itself: restarted with a certificate ---------------------------
    began = time.monotonic()
    hub.stop()
    cert, key = make_certificate(hub.root_home)
    hub.env.update(FMNIST_HUB_SSL_CERT=str(cert), FMNIST_HUB_SSL_KEY=str(key))
    hub.settings = dataclasses.replace(settings, ssl_cert=cert, ssl_key=key)
    hub.start(start_block)
    status, login_page = hub.call("GET", "/hub/login")
    assert hub.base.startswith("https://") and status == 200 and 'name="password"' in login_page
    ada_still_has_her_work()
    lap("restart with HTTPS", began)

    # --- the class backed up, lost, and restored -------------------------------------------
    began = time.monotonic()
    hub.stop()
    archive = hub.root_home / "class.tar.gz"
    hub_command = [sys.executable, "hub/fmnist_hub.py"]
    done = subprocess.run([*hub_command, "backup", str(archive)], cwd=ROOT, env=hub.env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    uids = {name: pwd.getpwnam(name).pw_uid for name in ["teacher", *learners]}
    for name in uids:
        remove_user(name)
    shutil.rmtree(settings.state)
    settings.state.mkdir(mode=0o755)
    (settings.state / OWNER_FILE).write_text(str(os.getpid()))
    done = subprocess.run([*hub_command, "restore", str(archive)], cwd=ROOT, env=hub.env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert {name: pwd.getpwnam(name).pw_uid for name in uids} == uids
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'instructor' / 'gradebook.db'}") as gradebook:
        restored = {  # as the export counts it: the late penalty taken off
            s.student.id: max(0.0, s.score - s.late_submission_penalty)
            for s in gradebook.assignment_submissions(LESSON)
        }
    assert restored == expected, restored
    hub.start(start_block)
    status, cookies = login(hub, ada, passwords[ada])
    assert status == 302 and "jupyterhub-hub-login" in cookies, "her password came back"
    hub.spawn(ada)
    ada_still_has_her_work()
    lap("back up, lose and restore the class", began)
    print(f"\nhub term timings: {timings}")


def test_a_killed_runs_users_are_cleared_and_real_users_kept() -> None:
    """Users a killed hub test left go before the next run; anyone else's account stays."""
    if os.geteuid() != 0:
        _skip_or_fail("making users needs root")
    dead = subprocess.Popen(["true"])
    dead.wait()
    tag = f"{os.getpid() % 100000:05d}"
    left, live, real = (f"fmnleft{tag}", f"fmnlive{tag}", f"fmnreal{tag}")
    killed, running = new_test_state(), new_test_state()
    (killed / OWNER_FILE).write_text(str(dead.pid))  # its pytest is gone
    orphan = subprocess.Popen(["sleep", "600"])  # the hub it left running
    (killed / "private").mkdir()
    (killed / "private" / "jupyterhub.pid").write_text(str(orphan.pid))
    other = Path(tempfile.mkdtemp(prefix="fmnist-real-home-"))
    homes = {left: killed / "home" / left, live: running / "home" / live, real: other / real}
    try:
        for name, home in homes.items():
            home.parent.mkdir(exist_ok=True)
            subprocess.run(["useradd", "--create-home", "--home-dir", str(home), name], check=True)
        assert clear_killed_tests([left, live, real]) == [left]
        assert not killed.exists(), "the killed run's folder stays"
        assert orphan.wait(timeout=10) == -9, "the killed run's hub still runs"
        with pytest.raises(KeyError):
            pwd.getpwnam(left)
        assert pwd.getpwnam(live).pw_dir == str(homes[live]), "a running test's user went"
        assert pwd.getpwnam(real).pw_dir == str(homes[real]), "a real user went"
    finally:
        for name in homes:
            remove_user(name)
        for folder in (killed, running, other):
            shutil.rmtree(folder, ignore_errors=True)
        orphan.kill()


def test_instructors_get_their_tools_learners_do_not(tmp_path: Path) -> None:
    """The formgrader and course tools: on for the instructors' group only."""
    settings = fmnist_hub.Settings(state=tmp_path)
    fmnist_hub.write_user_config(settings)
    code = (
        "import json\n"
        "from jupyterlab_server.config import get_static_page_config\n"
        "from jupyter_server.extension.config import ExtensionConfigManager\n"
        "from jupyter_core.paths import jupyter_config_path\n"
        "manager = ExtensionConfigManager(read_config_path=jupyter_config_path())\n"
        "print(json.dumps([get_static_page_config(level='all').get('disabledExtensions'),\n"
        "                  manager.get_jpserver_extensions()]))\n"
    )
    seen = {}
    for who, paths in (
        ("learner", [settings.learner_config]),
        ("instructor", [settings.instructor_config, settings.learner_config]),
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(map(str, paths))
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        seen[who] = json.loads(done.stdout)
    for plugin in fmnist_hub.INSTRUCTOR_LAB_EXTENSIONS:
        assert seen["learner"][0][plugin] is True
        assert seen["instructor"][0][plugin] is False
    for extension in fmnist_hub.INSTRUCTOR_SERVER_EXTENSIONS:
        assert seen["learner"][1][extension] is False
        assert seen["instructor"][1][extension] is True
    for extension in ("assignment_list", "validate_assignment"):
        name = f"nbgrader.server_extensions.{extension}"
        assert seen["learner"][1][name] is True and seen["instructor"][1][name] is True
    learner_env = settings.server_environment("nobody-in-particular")
    assert learner_env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [
        str(settings.learner_config),
        str(settings.terminal_config),
    ]
