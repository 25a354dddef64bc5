"""The class hub's exchange, terminals and pre-flight checks, tried by real users.

As root, these make an instructor and two learners (Unix users, removed afterwards),
set the hub up as ``make hub`` does, and then act as a learner would to squat the
course's exchange folders, plant a lesson, list the submissions and read another
learner's submission: each must fail, while the instructor can still read it.
"""

from __future__ import annotations

import grp
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fmnist_utils.grading import exchange

from .conftest import ROOT
from .hub_support import COURSE_GROUPS, free_uid_block, new_test_state, remove_user
from .support import free_port

sys.path.insert(0, str(ROOT / "hub"))
import fmnist_hub

NAMES = {"ada": "fxlearnada", "bob": "fxlearnbob", "teacher": "fxteacher"}


def _skip_unless_root() -> None:
    if os.geteuid() != 0:
        reason = "these tests create users and set up the hub: run them as root"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _as(name: str, code: str, *args: str, python: str = sys._base_executable) -> dict:
    """Run Python code as a user with no privileges; return what it prints (JSON).

    ``python``: the system's by default; a hub's runtime for code that needs the course.
    """
    done = subprocess.run(
        ["setpriv", f"--reuid={name}", f"--regid={name}", "--init-groups",
         python, "-c", code, *args],
        capture_output=True, text=True, check=False, cwd="/",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


TRY = """
import json, os, sys
kind, path = sys.argv[1], sys.argv[2]
try:
    if kind == "mkdir":
        os.mkdir(path)
    elif kind == "list":
        os.listdir(path)
    elif kind == "read":
        open(path, "rb").read()
    elif kind == "write":
        open(path, "w").write("planted")
    result = "allowed"
except OSError as error:
    result = type(error).__name__
print(json.dumps(result))
"""


def _try(name: str, kind: str, path: Path) -> str:
    return _as(name, TRY, kind, str(path))


@pytest.fixture
def hub_class() -> Iterator[fmnist_hub.Settings]:
    """A hub's state, set up, with an instructor and two learners; all removed afterwards."""
    _skip_unless_root()
    existing = [n for n in NAMES.values() if fmnist_hub.known(fmnist_hub.pwd.getpwnam, n)]
    if existing:
        pytest.skip(f"users {existing} already exist here; the test will not touch them")
    groups_before = {g.gr_name for g in grp.getgrall()}
    state = new_test_state()
    settings = fmnist_hub.Settings(state=state, homes=state / "home", first_uid=free_uid_block())
    try:
        try:
            fmnist_hub.check_environment(settings)
        except fmnist_hub.HubError as error:
            pytest.skip(str(error))
        (state / "home").mkdir()
        fmnist_hub.setup(settings)
        for who in ("ada", "bob"):
            fmnist_hub._create_user(settings, NAMES[who], who, settings.learners_group)
        fmnist_hub._create_user(settings, NAMES["teacher"], "t", settings.instructors_group)
        yield settings
    finally:
        for name in NAMES.values():
            remove_user(name)
        for group in set(COURSE_GROUPS) - groups_before:
            subprocess.run(["groupdel", group], capture_output=True, check=False)
        subprocess.run(["rm", "-rf", str(state)], check=False)


@pytest.mark.slow
def test_no_learner_can_squat_plant_list_or_read_a_submission(hub_class) -> None:
    course = hub_class.exchange / fmnist_hub.COURSE_ID
    ada, bob, teacher = NAMES["ada"], NAMES["bob"], NAMES["teacher"]
    for name, mode in fmnist_hub.EXCHANGE_FOLDERS.items():
        info = (course / name).stat()
        assert (info.st_uid, info.st_mode & 0o7777) == (0, mode), name
        assert grp.getgrgid(info.st_gid).gr_name == hub_class.instructors_group
    assert _try(ada, "mkdir", course) == "FileExistsError"
    assert _try(ada, "mkdir", course / "outbound" / "09_free_answers") == "PermissionError"
    assert _try(ada, "write", course / "outbound" / "planted.ipynb") == "PermissionError"
    assert _try(ada, "list", course / "inbound") == "PermissionError"
    assert _try(ada, "list", course / "feedback") == "PermissionError"
    assert _try(ada, "list", course / "outbound") == "allowed", "learners fetch released lessons"
    # ada submits (as nbgrader's submit lays a submission out), then the hub's submit step
    submission = course / "inbound" / f"{ada}+01_pixels_and_labels+2026-12-06+abc123"
    assert _try(ada, "mkdir", submission) == "allowed", "learners may submit"
    assert _try(ada, "write", submission / "01_pixels_and_labels.ipynb") == "allowed"
    _as(ada, f"from fmnist_utils.grading.exchange import make_private; "
             f"make_private({str(submission)!r}); print(1)",
        python=str(hub_class.runtime / "bin" / "python"))  # fmt: skip
    notebook = submission / "01_pixels_and_labels.ipynb"
    assert _try(bob, "read", notebook) == "PermissionError", "another learner reads nothing"
    assert _try(bob, "list", submission) == "PermissionError"
    assert _try(teacher, "read", notebook) == "allowed", "instructors collect it"
    assert _try(ada, "read", notebook) == "allowed"


@pytest.mark.slow
def test_a_squatted_exchange_folder_stops_the_hub_and_is_kept(hub_class) -> None:
    course = hub_class.exchange / fmnist_hub.COURSE_ID
    subprocess.run(["rm", "-rf", str(course)], check=True)
    assert _try(NAMES["ada"], "mkdir", course) == "allowed", "before setup, the exchange is open"
    with pytest.raises(fmnist_hub.HubError, match=rf"{course} belongs to {NAMES['ada']}"):
        fmnist_hub.ensure_exchange(hub_class)
    assert course.is_dir(), "what the learner made is refused, not removed"


@pytest.mark.slow
def test_learners_run_the_course_without_reaching_its_solutions(hub_class) -> None:
    ada, teacher = NAMES["ada"], NAMES["teacher"]
    solution = next((ROOT / "solutions").glob("01_*/01_*.py"))
    # the learner's runtime works, and imports the package from itself, not the course
    done = subprocess.run(
        ["setpriv", f"--reuid={ada}", f"--regid={ada}", "--init-groups",
         str(hub_class.runtime / "bin" / "python"), "-c",
         "import fmnist_utils, nbgrader; print(fmnist_utils.__file__)"],
        capture_output=True, text=True, check=False, cwd="/",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(hub_class.runtime)
    # nothing in the runtime leads back into the course folder
    for path in hub_class.runtime.rglob("*"):
        if path.is_symlink():
            assert not path.resolve().is_relative_to(ROOT), path
        elif path.suffix == ".pth" or path.parent.name == "bin":
            assert str(ROOT) not in path.read_text(errors="replace"), path
    # the solutions, the course folder and an instructor's copy are closed to learners
    assert _try(ada, "read", solution) == "PermissionError"
    assert _try(ada, "list", ROOT) == "PermissionError"
    course = fmnist_hub.add_instructor(hub_class, teacher)
    assert course.stat().st_mode & 0o777 == 0o700
    copy = course / solution.relative_to(ROOT)
    assert _try(ada, "read", copy) == "PermissionError"
    assert _try(ada, "list", course) == "PermissionError"
    assert _try(teacher, "read", copy) == "allowed"


@pytest.mark.slow
def test_every_terminal_has_the_course_on_its_path(hub_class) -> None:
    config = json.loads((hub_class.terminal_config / "jupyter_server_config.json").read_text())
    shell = config["ServerApp"]["terminado_settings"]["shell_command"]
    assert "--login" not in shell and "-l" not in shell, "a login shell resets PATH on Debian"
    for who in ("ada", "teacher"):
        name = NAMES[who]
        env = {"HOME": str(Path(fmnist_hub.pwd.getpwnam(name).pw_dir)), "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            ["setpriv", f"--reuid={name}", f"--regid={name}", "--init-groups", "env", "-i",
             *(f"{k}={v}" for k, v in env.items()), *shell, "-c", "command -v nbgrader python"],
            capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [
            str(hub_class.runtime / "bin" / "nbgrader"),
            str(hub_class.runtime / "bin" / "python"),
        ]
    paths = hub_class.server_environment(NAMES["ada"])["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert str(hub_class.terminal_config) in paths


@pytest.mark.slow
def test_the_roster_reaches_the_gradebook_with_names_and_emails(hub_class) -> None:
    from nbgrader.api import Gradebook

    roster = hub_class.state / "in.csv"
    roster.write_text(
        "id,name,email\n"
        f"{NAMES['ada']},Ada King Lovelace,ada@example.org\n"
        f"{NAMES['bob']},Bob,bob@example.org\n"
        "fxlearncyd,Cyd Charisse,cyd@example.org\n"
    )
    try:
        course = fmnist_hub.add_instructor(hub_class, NAMES["teacher"])
        fmnist_hub.add_learners(hub_class, roster)  # two are there already: names still go in
        listed = fmnist_hub.gradebook_roster(hub_class)
        assert listed.stat().st_mode & 0o777 == 0o640, "names and emails: not for learners"
        assert _try(NAMES["ada"], "read", listed) == "PermissionError"
        with Gradebook(f"sqlite:///{course / 'instructor' / 'gradebook.db'}") as gradebook:
            students = {s.id: (s.first_name, s.last_name, s.email) for s in gradebook.students}
        assert students == {
            NAMES["ada"]: ("Ada", "King Lovelace", "ada@example.org"),
            NAMES["bob"]: ("Bob", None, "bob@example.org"),
            "fxlearncyd": ("Cyd", "Charisse", "cyd@example.org"),
        }
    finally:
        remove_user("fxlearncyd")


def test_the_hub_submits_through_the_private_step(tmp_path: Path) -> None:
    text = fmnist_hub.learner_nbgrader_config(fmnist_hub.Settings(state=tmp_path))
    assert f"c.ExchangeFactory.submit = {fmnist_hub.PRIVATE_SUBMIT!r}" in text
    module, _, name = fmnist_hub.PRIVATE_SUBMIT.rpartition(".")
    assert module == exchange.__name__ and getattr(exchange, name) is exchange.PrivateSubmit


def test_make_private_closes_a_submission_and_follows_no_link(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    (folder / "inner").mkdir(parents=True)
    (folder / "a.ipynb").write_text("{}")
    (folder / "inner" / "b.txt").write_text("b")
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    outside.chmod(0o644)
    (folder / "link").symlink_to(outside)
    exchange.make_private(str(folder))
    assert folder.stat().st_mode & 0o7777 == exchange.FOLDER_MODE
    assert (folder / "inner").stat().st_mode & 0o7777 == exchange.FOLDER_MODE
    assert (folder / "a.ipynb").stat().st_mode & 0o777 == exchange.FILE_MODE
    assert (folder / "inner" / "b.txt").stat().st_mode & 0o777 == exchange.FILE_MODE
    assert outside.stat().st_mode & 0o777 == 0o644, "a link's target is never changed"


def test_a_taken_port_is_named_before_the_hub_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = fmnist_hub.Settings(
            state=tmp_path, port=port, hub_port=free_port(), proxy_api_port=free_port()
        )
        with pytest.raises(fmnist_hub.HubError, match=rf"Port {port} .*FMNIST_HUB_PORT="):
            fmnist_hub.check_ports(settings)


def test_a_closed_folder_on_the_way_is_named_with_its_mode(tmp_path: Path) -> None:
    private = tmp_path / "private"
    (private / "course").mkdir(parents=True)
    private.chmod(0o700)
    target = private / "course" / "python"
    target.write_text("")
    assert f"{private} (mode 0700)" in fmnist_hub.closed_folders(target)


def test_a_submission_is_copied_without_what_nbgrader_ignores(tmp_path: Path) -> None:
    src = tmp_path / "lesson"
    (src / ".ipynb_checkpoints").mkdir(parents=True)
    (src / "data").mkdir()
    (src / "lesson.ipynb").write_text("{}")
    (src / "data" / "x.csv").write_text("1")
    (src / ".ipynb_checkpoints" / "lesson-checkpoint.ipynb").write_text("{}")
    exchange.copy_into_group_folder(
        str(src), str(tmp_path / "sub"), shutil.ignore_patterns(".ipynb_checkpoints")
    )
    copied = sorted(
        p.relative_to(tmp_path / "sub").as_posix() for p in (tmp_path / "sub").rglob("*")
    )
    assert copied == ["data", "data/x.csv", "lesson.ipynb"]


@pytest.mark.slow
def test_a_class_backed_up_comes_back_whole_on_a_fresh_hub(hub_class) -> None:
    import backup

    ada = NAMES["ada"]
    home = Path(fmnist_hub.pwd.getpwnam(ada).pw_dir)
    _as(ada, f"open({str(home / 'work.txt')!r}, 'w').write('my answers'); print(1)")
    (home / "elsewhere").symlink_to("/etc")  # a learner's link: kept, never followed
    submission = hub_class.exchange / fmnist_hub.COURSE_ID / "inbound" / f"{ada}+L+t+r"
    _as(ada, f"import os; os.mkdir({str(submission)!r}); print(1)")
    hashes = backup.password_hashes()
    before = {n: hashes[n] for n in NAMES.values()}
    archive = hub_class.state / "class.tar.gz"
    backup.backup(hub_class, archive)
    assert archive.stat().st_mode & 0o777 == 0o600
    with pytest.raises(fmnist_hub.HubError, match="already there"):
        backup.backup(hub_class, archive)
    saved = Path(new_test_state()) / "class.tar.gz"
    os.replace(archive, saved)
    for name in NAMES.values():
        remove_user(name)
    fresh = fmnist_hub.Settings(state=saved.parent, homes=saved.parent / "home")
    try:
        made = backup.restore(fresh, saved)
        assert sorted(made) == sorted(NAMES.values())
        hashes = backup.password_hashes()
        assert {n: hashes[n] for n in NAMES.values()} == before
        restored = Path(fmnist_hub.pwd.getpwnam(ada).pw_dir)
        assert (restored / "work.txt").read_text() == "my answers"
        assert (restored / "work.txt").owner() == ada and restored.stat().st_mode & 0o777 == 0o700
        assert os.readlink(restored / "elsewhere") == "/etc"
        moved = fresh.exchange / fmnist_hub.COURSE_ID / "inbound" / submission.name
        assert moved.owner() == ada
        assert _try(NAMES["bob"], "list", moved.parent) == "PermissionError"
        with pytest.raises(fmnist_hub.HubError, match="already exist"):
            backup.restore(fresh, saved)
    finally:
        subprocess.run(["rm", "-rf", str(saved.parent)], check=False)


def test_courses_are_read_from_the_setting_and_bad_ones_named() -> None:
    two = fmnist_hub.parse_courses("one:one-l:one-i two")
    assert [c.id for c in two] == ["one", "two"]
    assert (two[1].learners_group, two[1].instructors_group) == ("two-learners", "two-instructors")
    assert fmnist_hub.parse_courses(fmnist_hub.DEFAULT_COURSES)[0].id == fmnist_hub.COURSE_ID
    for bad in ("one:l", "One", "one one", "a:g:g", ""):
        with pytest.raises(fmnist_hub.HubError, match="FMNIST_HUB_COURSES"):
            fmnist_hub.parse_courses(bad)
    with pytest.raises(fmnist_hub.HubError, match="No course `nope`"):
        fmnist_hub.Settings(courses=two).course("nope")


@pytest.mark.slow
def test_two_courses_share_one_hub_each_with_its_id_groups_and_exchange() -> None:
    _skip_unless_root()
    ada, bob, teach, other = "fxcrsada", "fxcrsbob", "fxcrsteach", "fxcrsother"
    names = [ada, bob, teach, other]
    if any(fmnist_hub.known(fmnist_hub.pwd.getpwnam, n) for n in names):
        pytest.skip(f"one of {names} already exists here; the test will not touch them")
    groups_before = {g.gr_name for g in grp.getgrall()}
    state = new_test_state()
    courses = fmnist_hub.parse_courses("fxcrs-one:fxcrs1-l:fxcrs1-i fxcrs-two:fxcrs2-l:fxcrs2-i")
    one, two = courses
    settings = fmnist_hub.Settings(
        state=state, homes=state / "home", first_uid=free_uid_block(), courses=courses
    )
    try:
        (state / "home").mkdir()
        for name, course in ((ada, one), (bob, two)):
            roster = state / f"{name}.csv"
            roster.write_text(f"id,name,email\n{name},{name},{name}@example.org\n")
            fmnist_hub.add_learners(settings, roster, course.id)
        first = fmnist_hub.add_instructor(settings, teach, one.id)
        second = fmnist_hub.add_instructor(settings, other, two.id)
        # each user's server reads their own course's id; instructors' copies say theirs
        for name, course in ((ada, one), (bob, two), (teach, one), (other, two)):
            paths = settings.server_environment(name)["JUPYTER_CONFIG_PATH"].split(os.pathsep)
            config = settings.learner_config_of(course) / "nbgrader_config.py"
            assert (
                str(config.parent) in paths
                and str(settings.learner_config_of(two if course == one else one)) not in paths
            ), name
            assert f"c.CourseDirectory.course_id = {course.id!r}" in config.read_text()
        assert 'course_id = "fxcrs-one"' in (first / "nbgrader_config.py").read_text()
        assert 'course_id = "fxcrs-two"' in (second / "nbgrader_config.py").read_text()
        # each course's exchange folders belong to its own instructors
        for course, instructor, stranger in ((one, teach, other), (two, other, teach)):
            top = settings.exchange / course.id
            assert grp.getgrgid(top.stat().st_gid).gr_name == course.instructors_group
            planted = top / "outbound" / "planted.ipynb"
            assert _try(stranger, "write", planted) == "PermissionError", course.id
            assert _try(instructor, "write", planted) == "allowed", course.id
        # class lists apart; one course per learner
        assert ada in fmnist_hub.gradebook_roster(settings, one).read_text()
        assert bob not in fmnist_hub.gradebook_roster(settings, one).read_text()
        with pytest.raises(fmnist_hub.HubError, match=f"not a learner of {two.id}"):
            fmnist_hub.add_learners(settings, state / f"{ada}.csv", two.id)
        with pytest.raises(fmnist_hub.HubError, match="one course per user"):
            fmnist_hub.add_instructor(settings, teach, two.id)
    finally:
        for name in names:
            remove_user(name)
        for group in settings.groups - groups_before:
            subprocess.run(["groupdel", group], capture_output=True, check=False)
        subprocess.run(["rm", "-rf", str(state)], check=False)
