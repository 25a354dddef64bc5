#!/usr/bin/env python3
"""Start an IPython kernel for ``nbgrader autograde`` inside a bubblewrap sandbox.

This file is the ``argv`` of the ``fmnist-grader`` kernelspec::

    python {resource_dir}/sandbox_kernel.py -f {connection_file}

It is run as a script by the grading process (``nbgrader autograde``), for the
learner's kernel and for the tests kernel, and imports nothing from the course. A
kernel gets: no network; its own PID, IPC, UTS, cgroup and user namespaces, as uid/gid
65534; read-only ``/usr`` and its links, a few files of ``/etc``, this Python
installation (never another ``sys.path`` entry) and ``FMNIST_SANDBOX_RO_PATHS`` (the
course's ``fmnist_utils`` package and the Fashion-MNIST folder); a private ``/tmp``
(also ``HOME``); an in-memory copy of the submission to work in; its own folder of
the connection file and ipc sockets; the folder the two kernels share
(``FMNIST_SANDBOX_SHARED_DIR``, writable by the tests kernel only); nothing else (not
the course folder, ``solutions/``, the gradebook, other learners, the instructor's
home); a cleared environment with ``FMNIST_FAST=1``; and the limits the grader sets
(``FMNIST_SANDBOX_MEM_MB``, ``..._CPU_S``, ``..._NPROC``, ``..._DISK_MB``,
``..._TMP_MB``; ``RLIMIT_AS`` would break TensorFlow).

If bubblewrap is missing or cannot build the sandbox, the kernel is not started
(exit status 3) unless ``FMNIST_UNSANDBOXED_GRADING=1``: then it runs unsandboxed,
with the limits and the cleared environment only, after a loud warning.
"""

from __future__ import annotations

import glob
import os
import resource
import shutil
import signal
import subprocess
import sys

OPT_OUT_VAR = "FMNIST_UNSANDBOXED_GRADING"
GRADER_PID_VAR = "FMNIST_SANDBOX_GRADER_PID"
"""The grading process's pid, set by the grading side: this process dies with it."""
# Variables passed into the sandbox: names, or prefixes ending in "*". Never a
# FMNIST_* wildcard: FMNIST_GRADEBOOK_URL may hold a database password.
ENV_KEEP = (
    "LANG",
    "LC_*",
    "TZ",
    "TERM",
    "PYTHONHASHSEED",
    "MPLBACKEND",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "NBGRADER_EXECUTION",
    "FMNIST_DATA_DIR",
)
# /etc entries Python, NumPy, TensorFlow and Matplotlib read (read-only, if present).
ETC_KEEP = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "localtime",
    "timezone",
    "nsswitch.conf",
    "host.conf",
    "passwd",
    "group",
    "fonts",
    "ssl",
    "ca-certificates",
    "mime.types",
    "matplotlibrc",
    "os-release",
)
# System paths bound read-only; symlinks (/bin -> usr/bin) are re-created as symlinks.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def _die(message: str, code: int = 3) -> None:
    sys.stderr.write(f"\n[fmnist-grader] {message}\n\n")
    sys.stderr.flush()
    sys.exit(code)


def _connection_file(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "-f" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--f="):
            return arg[4:]
    _die("no '-f CONNECTION_FILE' argument given")
    return ""  # not reached


def _under(path: str, folder: str) -> bool:
    """Tell whether ``path`` is ``folder`` or inside it (both real paths)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _course_root() -> str | None:
    root = os.environ.get("FMNIST_SANDBOX_COURSE_ROOT")
    return os.path.realpath(root) if root else None


def _exposes_course(path: str) -> bool:
    """Tell whether binding ``path`` would show the course folder (it or an ancestor)."""
    root = _course_root()
    return root is not None and _under(root, path)


def kernel_env() -> dict[str, str]:
    """Return the environment of the sandboxed kernel: an allow-list, and fixed values."""
    env = {}
    for key, value in os.environ.items():
        for pattern in ENV_KEEP:
            if key == pattern or (pattern.endswith("*") and key.startswith(pattern[:-1])):
                env[key] = value
    env.update(
        HOME="/tmp",
        TMPDIR="/tmp",
        PATH=f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        FMNIST_FAST="1",  # grading never trains on the full data
        # TensorFlow's C++ log lines go to stderr, and nbgrader scores a test cell
        # with any stderr output zero: keep them out (the sandbox has no GPU anyway).
        TF_CPP_MIN_LOG_LEVEL="3",
        CUDA_VISIBLE_DEVICES="-1",
        MPLBACKEND=env.get("MPLBACKEND", "Agg"),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONNOUSERSITE="1",
        # Inside the PID namespace the kernel's parent is bwrap: with the real
        # JPY_PARENT_PID, ipykernel's parent poller would stop the kernel at once.
        # 1 turns the poller off; --die-with-parent does its job.
        JPY_PARENT_PID="1",
    )
    # import fmnist_utils from where the grading process did (an editable install may
    # point elsewhere): only that package folder is visible below this entry
    if os.environ.get("FMNIST_SANDBOX_PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["FMNIST_SANDBOX_PYTHONPATH"]
    return env


def extra_ro_paths() -> list[tuple[str, str]]:
    """Return the ``FMNIST_SANDBOX_RO_PATHS`` entries (``SRC`` or ``SRC=DEST``) that exist."""
    out = []
    for item in filter(None, os.environ.get("FMNIST_SANDBOX_RO_PATHS", "").split(os.pathsep)):
        src, _, dest = item.partition("=")
        src = os.path.realpath(src)
        if not os.path.exists(src):
            continue
        if _exposes_course(src):
            _die(f"refusing to show {src} in the sandbox: it would expose the course folder")
        out.append((src, dest or src))
    return out


def python_roots() -> list[str]:
    """Return the folders of this Python: virtual environment and base installation.

    Only the prefixes, never other ``sys.path`` entries: an editable install or a
    ``PYTHONPATH`` may point at a whole repository, ``solutions/`` included.
    """
    roots = {
        os.path.realpath(p)
        for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)
    }
    roots.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    for root in roots:
        if root == "/" or _exposes_course(root):
            _die(
                f"refusing to show the Python installation {root} in the sandbox: it holds "
                "the course folder. Install the course's Python outside the course folder."
            )
    outermost: list[str] = []
    for root in sorted(roots, key=len):
        if not any(_under(root, o) for o in outermost):
            outermost.append(root)
    return outermost


WORK_COPY_MOUNT = "/fmnist-submission"
"""Where the read-only copy of the submission is seen in the sandbox (copied to cwd)."""

# Copies the submission into the kernel's tmpfs working folder, then starts the kernel.
_COPY_THEN_KERNEL = (
    "import os, shutil, sys\n"
    f"shutil.copytree({WORK_COPY_MOUNT!r}, '.', dirs_exist_ok=True, symlinks=True)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'ipykernel_launcher', *sys.argv[1:]])\n"
)


def _limit(name: str) -> int:
    """Return the limit the grader set in ``name`` (``config.LIMITS``); refuse without it."""
    value = os.environ.get(name, "")
    if not value.isdigit():
        _die(
            f"{name} is not set to a whole number ({value!r}): start grading kernels "
            "through nbgrader autograde, which sets the sandbox's limits"
        )
    return int(value)


def _mib(name: str) -> int:
    return _limit(name) * 2**20  # the limit ``name``, given in MiB, in bytes


def kernel_command(argv: list[str]) -> list[str]:
    """Return the kernel's command line in the sandbox (copying the submission in first)."""
    if os.environ.get("FMNIST_SANDBOX_WORK_COPY"):
        return [sys.executable, "-c", _COPY_THEN_KERNEL, *argv]
    return [sys.executable, "-m", "ipykernel_launcher", *argv]


def _user_processes() -> int:
    """Count this user's threads (RLIMIT_NPROC counts every thread, sandbox or not)."""
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                pass
    return count


def limit_processes(extra: int) -> str:
    """Cap the processes the kernel may start; return how (RLIMIT_NPROC does not bind root)."""
    if os.getuid() == 0:
        return "none for root outside a cgroup"
    room = 2 * extra + 8 * (os.cpu_count() or 2)  # the user's, shared with kernels beside
    n = _user_processes() + room
    resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
    return f"RLIMIT_NPROC={n} (this user's {n - room} threads + {room})"


def _subreaper() -> None:
    """Become the parent of every orphaned descendant (a double-forked daemon)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # 36: PR_SET_CHILD_SUBREAPER


def reap_descendants() -> int:
    """Kill and reap every process left below this one; return how many there were."""
    killed = 0
    for _ in range(50):
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == os.getpid():
                    children.append(int(entry))
        if not children:
            break
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                killed += 1
            except OSError:
                pass
    return killed


def cgroup_enter(mem: int, pids: int) -> list[str]:
    """Put this process (and so the sandbox) in new memory and pids cgroups, if allowed.

    cgroup v2 (``/sys/fs/cgroup/cgroup.procs``) or v1 (``/sys/fs/cgroup/memory``,
    ``/sys/fs/cgroup/pids``), where this user may create groups (root, or a delegated
    subtree). The memory limit covers every process of the sandbox and its tmpfs files.

    Returns
    -------
    list of str
        The cgroup folders made (for :func:`cgroup_leave`); empty when none could be.
    """
    name = f"fmnist-grader-{os.getpid()}"
    made: list[str] = []
    v2 = "/sys/fs/cgroup"
    for old in [*glob.glob(f"{v2}/fmnist-grader-*"), *glob.glob(f"{v2}/*/fmnist-grader-*")]:
        if not os.path.exists(f"/proc/{old.rsplit('-', 1)[1]}"):
            try:
                os.rmdir(old)  # left by a killed wrapper; fails while not empty
            except OSError:
                pass
    if os.path.exists(f"{v2}/cgroup.controllers"):
        plan = [(f"{v2}/{name}", {"memory.max": mem, "pids.max": pids, "memory.swap.max": 0})]
    else:
        plan = [
            (f"{v2}/memory/{name}", {"memory.limit_in_bytes": mem}),
            (f"{v2}/pids/{name}", {"pids.max": pids}),
        ]
    for folder, limits in plan:
        try:
            os.mkdir(folder)
        except OSError:
            continue
        made.append(folder)
        try:
            for key, value in limits.items():
                if os.path.exists(f"{folder}/{key}"):
                    with open(f"{folder}/{key}", "w") as handle:
                        handle.write(str(value))
            with open(f"{folder}/cgroup.procs", "w") as handle:
                handle.write(str(os.getpid()))
        except OSError:
            cgroup_leave([folder])
            made.remove(folder)
    return made


def cgroup_leave(folders: list[str]) -> None:
    """Kill what is left in ``folders``, move this process back up and remove them."""
    for folder in folders:
        try:
            with open(f"{folder}/cgroup.procs") as handle:
                for pid in handle.read().split():
                    if int(pid) != os.getpid():
                        os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
        try:
            with open(f"{os.path.dirname(folder)}/cgroup.procs", "w") as handle:
                handle.write(str(os.getpid()))
            os.rmdir(folder)
        except OSError:
            pass


def bwrap_args(cwd: str, rundir: str) -> list[str]:
    """Return bubblewrap's arguments for a kernel working in ``cwd``."""
    args = [
        "--unshare-all",  # network, PID, IPC, UTS, cgroup, user
        "--unshare-user",
        "--uid", "65534",
        "--gid", "65534",
        "--die-with-parent",
        "--hostname", "grader",
        "--proc", "/proc",
        "--dev", "/dev",
        "--new-session",  # no controlling terminal (no TIOCSTI)
        "--size", str(_mib("FMNIST_SANDBOX_TMP_MB")), "--tmpfs", "/tmp",
    ]  # fmt: skip
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--dir", "/etc"]
    for name in ETC_KEEP:
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for root in python_roots():
        if not _under(root, "/usr"):
            args += ["--ro-bind", root, root]
    for src, dest in extra_ro_paths():
        args += ["--ro-bind", src, dest]
    args += ["--bind", rundir, rundir]  # connection file and ipc sockets
    # The folder shared by the tests kernel and the learner's (the channel's socket, the
    # tests' files), writable by the tests kernel only: a socket there still connects.
    shared = os.environ.get("FMNIST_SANDBOX_SHARED_DIR")
    if shared:
        shared = os.path.realpath(shared)
        if _exposes_course(shared):
            _die(f"refusing to share {shared} with the sandbox: it would expose the course folder")
        mode = os.environ.get("FMNIST_SANDBOX_SHARED_MODE", "ro")
        args += ["--bind" if mode == "rw" else "--ro-bind", shared, shared]
    # The kernel works in a size-limited tmpfs holding a copy of the submission
    # (FMNIST_SANDBOX_WORK_COPY, made by the grader), never in a folder of the
    # instructor's disk; without a copy (the tests kernel), in its own empty folder.
    copy = os.environ.get("FMNIST_SANDBOX_WORK_COPY")
    if copy:
        args += ["--ro-bind", os.path.realpath(copy), WORK_COPY_MOUNT]
        args += ["--size", str(_mib("FMNIST_SANDBOX_DISK_MB")), "--tmpfs", cwd]
        args += ["--chdir", cwd]
    else:
        args += ["--bind", cwd, cwd, "--chdir", cwd]  # the submission's folder
    args += ["--remount-ro", "/"]  # the skeleton holding the mount points
    # bwrap itself starts with kernel_env() only (see main): /proc/1/environ inside
    # shows nothing of the grader; --clearenv keeps the kernel's the same
    args += ["--clearenv"]
    for key, value in sorted(kernel_env().items()):
        args += ["--setenv", key, value]
    return args


def bwrap_problem() -> str | None:
    """Return None if bubblewrap can build the sandbox here, else what is wrong."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap ('bwrap') is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        done = subprocess.run(
            [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent",
             "--ro-bind", "/", "/", "true"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as error:
        return f"running bwrap failed: {error!r}"
    if done.returncode != 0:
        return (
            f"bwrap is installed but cannot create a sandbox here ({done.stderr.strip()}); "
            "unprivileged user namespaces may be disabled (sysctl "
            "kernel.unprivileged_userns_clone or kernel.apparmor_restrict_unprivileged_userns)"
        )
    return None


def _prctl_parent_death_signal(signum: int) -> bool:
    """Ask the kernel for ``signum`` when this thread's parent dies (PR_SET_PDEATHSIG)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(1, signum, 0, 0, 0) == 0  # 1: PR_SET_PDEATHSIG


# The process this script runs: a kernel, or bwrap holding one. A signal that ends this
# process ends it first.
_CHILD: subprocess.Popen | None = None


def _end_all() -> None:
    """Kill the child and everything it started, then this process.

    Killing bwrap alone is not enough: killed while it sets up the sandbox, its own
    child (the sandbox's init) may not yet have asked to die with it, and lives on.
    jupyter_client starts this process as the leader of a process group of its own,
    which bwrap and the sandbox inherit: ``SIGKILL`` to the group ends them all.
    """
    if os.getpgrp() == os.getpid():
        os.killpg(0, signal.SIGKILL)
    child = _CHILD  # not a group leader (started by hand): the child, at least
    if child is not None and child.poll() is None:
        child.kill()
        child.wait()


def _stop(signum: int, frame: object) -> None:
    """End the child, then this process (SIGTERM, SIGHUP, the parent-death signal)."""
    _end_all()
    os._exit(128 + signum)


def bind_to_grader() -> int:
    """Tie this process's life to the grading process, whatever the timing.

    The grading process names itself in ``FMNIST_SANDBOX_GRADER_PID``. This process
    asks for ``SIGTERM`` when its parent dies (``PR_SET_PDEATHSIG``), then checks that
    its parent still is that process: one that died before the request took effect
    has already re-parented this process (to init, or a subreaper), and the request
    would never fire. So this process never runs on without the grading process,
    however early that one dies.

    Returns
    -------
    int
        The grading process's pid.
    """
    raw = os.environ.get(GRADER_PID_VAR, "")
    if not raw.isdigit():
        _die(
            f"{GRADER_PID_VAR} is not set: the fmnist-grader kernel is started by "
            "nbgrader autograde with the course's nbgrader_config.py only"
        )
    grader = int(raw)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    if not _prctl_parent_death_signal(signal.SIGTERM):
        _die("cannot ask to be stopped with the grading process (prctl failed)")
    if os.getppid() != grader:  # pid 1 only where the grader is a container's init
        _die(f"the grading process (pid {grader}) is gone: no kernel started", code=4)
    return grader


def supervise(cmd: list[str], grader: int, env: dict[str, str] | None = None) -> int:
    """Run the kernel as a child, and take it down if the grading process goes away.

    bubblewrap's ``--die-with-parent`` covers the sandboxed processes, not bwrap itself:
    when ``nbgrader autograde`` is killed, an exec'd bwrap would live on with its
    kernel. So this process stays between them: the child gets ``SIGKILL`` when this
    process dies (``PR_SET_PDEATHSIG``, set while it is single-threaded), and this
    process ends it, and all it started (:func:`_end_all`), and exits when the
    grading process dies (:func:`bind_to_grader`),
    on ``SIGTERM`` or ``SIGHUP``, and, should a signal be lost, when a check once a
    second finds that its parent is no longer the grading process.

    Parameters
    ----------
    cmd : list of str
        The command to run.
    grader : int
        The grading process's pid (:func:`bind_to_grader`).
    env : dict, optional
        The child's environment (default: this process's).

    Returns
    -------
    int
        The kernel's exit status (128 + signal number when a signal ended it).
    """
    global _CHILD
    me = os.getpid()

    def die_with_me() -> None:
        if not _prctl_parent_death_signal(signal.SIGKILL) or os.getppid() != me:
            os._exit(1)  # this process died before prctl took effect

    _CHILD = child = subprocess.Popen(cmd, env=env, preexec_fn=die_with_me)
    while True:
        try:
            code = child.wait(timeout=1.0)
            return 128 - code if code < 0 else code
        except subprocess.TimeoutExpired:
            if os.getppid() != grader:  # the grading process is gone
                _end_all()
                return 1


def atexit_reap() -> None:
    """At exit, kill what the kernel left running (a background process it started)."""
    import atexit

    def reap() -> None:
        left = reap_descendants()
        if left and os.environ.get(OPT_OUT_VAR) == "1":  # in the sandbox: bwrap's own
            sys.stderr.write(f"[fmnist-grader] killed {left} process(es) the kernel left running\n")

    atexit.register(reap)


def main() -> None:
    """Start the kernel in the sandbox, or refuse."""
    grader = bind_to_grader()  # first: the grading process may already be dying
    argv = sys.argv[1:]
    connection_file = os.path.realpath(_connection_file(argv))
    rundir = os.path.dirname(connection_file)
    cwd = os.path.realpath(os.getcwd())

    # Limits apply to bwrap and everything it starts (rlimits are inherited).
    mem = _mib("FMNIST_SANDBOX_MEM_MB")
    cpu = _limit("FMNIST_SANDBOX_CPU_S")
    nproc = _limit("FMNIST_SANDBOX_NPROC")
    resource.setrlimit(resource.RLIMIT_DATA, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    # processes, and memory for the whole sandbox where a cgroup can be made
    groups = cgroup_enter(mem, nproc)
    if not any("pids" in g or "/sys/fs/cgroup/fmnist" in g for g in groups):
        limit_processes(nproc)
    if groups:
        import atexit

        atexit.register(cgroup_leave, groups)
    kernel_cmd = kernel_command(argv)
    _subreaper()
    atexit_reap()
    # jupyter_client interrupts with killpg(SIGINT), which reaches this process and
    # bwrap too: an ignored signal stays ignored across fork and exec, so both survive
    # it, and ipykernel installs its own SIGINT handler while it runs a cell.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    problem = bwrap_problem()
    if problem is None:
        bwrap = shutil.which("bwrap") or "bwrap"
        # bwrap starts with the kernel's environment only, never the grader's
        cmd = [bwrap, *bwrap_args(cwd, rundir), "--", *kernel_cmd]
        sys.exit(supervise(cmd, grader, kernel_env()))
    if os.environ.get(OPT_OUT_VAR) == "1":
        sys.stderr.write(
            f"\n[fmnist-grader] WARNING: {problem}\n[fmnist-grader] WARNING: {OPT_OUT_VAR}=1: "
            "running student code WITHOUT a sandbox, with your rights.\n\n"
        )
        env = kernel_env()
        env["HOME"] = os.environ.get("HOME", "/tmp")
        env["TMPDIR"] = os.environ.get("TMPDIR", "/tmp")
        if os.environ.get("FMNIST_SANDBOX_WORK_COPY"):  # work in the copy
            os.chdir(os.environ["FMNIST_SANDBOX_WORK_COPY"])
            kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", *argv]
        sys.exit(supervise(kernel_cmd, grader, env))
    _die(
        f"REFUSING to start a grading kernel: {problem}. Student code would run with your "
        f"rights. Fix the sandbox, or set {OPT_OUT_VAR}=1 to grade without it "
        "(trusted submissions only)."
    )


if __name__ == "__main__":
    main()
