"""Back up a class hub in one archive, and restore it on a fresh machine.

``make hub-backup OUT=class.tar.gz`` keeps, in one archive readable by root only:

- the hub's state: its database and secrets, the learners' initial passwords, the
  exchange (released lessons, submissions, feedback), the class list, ``config.d``;
- every hub user's home, instructors' ``~/course`` (the gradebook) included;
- the users themselves: name, uid, full name, group, password hash.

``make hub-restore IN=class.tar.gz`` recreates the users and puts everything back, on
a machine whose hub holds nothing yet; it refuses to overwrite a user or a hub that is
already there. Links in the archive are kept as links, never followed, and a name that
would land outside its folder is refused.
"""

from __future__ import annotations

import io
import json
import os
import pwd
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

from fmnist_hub import HubError, Settings, group_members, known, setup

STATE_PARTS = ("private", "staff", "exchange", "roster.csv", "config.d")
#: Another course's class list (``fmnist_hub.gradebook_roster``).
ROSTERS = "roster-*.csv"
MANIFEST = "manifest.json"


def password_hashes() -> dict[str, str]:
    """Read every user's password hash from ``/etc/shadow`` (root only)."""
    rows = (line.split(":") for line in Path("/etc/shadow").read_text().splitlines())
    return {fields[0]: fields[1] for fields in rows if len(fields) > 1}


def _users(settings: Settings) -> list[dict[str, object]]:
    """Every course's instructors and learners, with the course group each is in."""
    group_of = {}
    for course in reversed(settings.courses):  # a user of two courses: the first one's
        for group in (course.learners_group, course.instructors_group):
            group_of |= dict.fromkeys(group_members(group), group)
    hashes = password_hashes()
    users = []
    for name in sorted(group_of):
        entry = pwd.getpwnam(name)
        users.append({
            "name": name, "uid": entry.pw_uid, "gecos": entry.pw_gecos,
            "home": entry.pw_dir, "password": hashes.get(name, "!"), "group": group_of[name],
        })  # fmt: skip
    return users


def backup(settings: Settings, out: Path) -> Path:
    """Write the class's archive to ``out`` (which must not exist); return it."""
    if os.path.lexists(out):
        raise HubError(f"{out} is already there: name a new file, nothing was overwritten.")
    users = _users(settings)
    manifest = json.dumps({"users": users, "state": str(settings.state)}, indent=2).encode()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(manifest), 0o600
        tar.addfile(info, io.BytesIO(manifest))
        parts = [*STATE_PARTS, *(p.name for p in sorted(settings.state.glob(ROSTERS)))]
        for part in parts:
            if os.path.lexists(settings.state / part):
                tar.add(settings.state / part, arcname=f"state/{part}")
        for user in users:
            if os.path.isdir(str(user["home"])):
                tar.add(str(user["home"]), arcname=f"homes/{user['name']}")
    return out


def _safe(member: tarfile.TarInfo, links: set[str]) -> bool:
    """Tell whether an archive entry stays inside its folder, and not beneath a link."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or path.parts[0] not in ("state", "homes"):
        return False
    if any(str(parent) in links for parent in path.parents):
        return False  # written through a link, it could land anywhere
    return member.isfile() or member.isdir() or member.issym()


def restore(settings: Settings, archive: Path) -> list[str]:
    """Recreate the class of ``archive`` on this machine; return the users made.

    Raises
    ------
    HubError
        If this hub already holds a class (its database), a user of the archive exists
        here, or an entry of the archive would land outside its folder.
    """
    if (settings.state / "private" / "jupyterhub.sqlite").exists():
        raise HubError(f"{settings.state} already holds a hub: restore into a fresh one.")
    with tarfile.open(archive, "r:gz") as tar:
        manifest = json.load(tar.extractfile(MANIFEST))
        members = [m for m in tar.getmembers() if m.name != MANIFEST]
        links = {m.name for m in members if m.issym()}
        bad = [m.name for m in members if not _safe(m, links)]
        if bad:
            raise HubError(f"{archive}: entries outside their folder, nothing restored: {bad[:5]}")
        missing = {u["group"] for u in manifest["users"]} - settings.groups
        if missing:
            raise HubError(
                f"{archive} has users of the groups {sorted(missing)}, which no course of this "
                "hub has: set FMNIST_HUB_COURSES as on the hub it came from. Nothing restored."
            )
        here = [u["name"] for u in manifest["users"] if known(pwd.getpwnam, u["name"])]
        if here:
            raise HubError(f"users {here} already exist here: nothing was restored.")
        setup(settings)
        settings.homes.mkdir(parents=True, exist_ok=True)
        made = []
        for user in manifest["users"]:
            home = settings.homes / user["name"]
            command = ["useradd", "--no-create-home", "--home-dir", str(home), "--user-group",
                       "--groups", user["group"], "--shell", "/bin/bash",
                       "--comment", user["gecos"], "--password", user["password"]]  # fmt: skip
            if not known(pwd.getpwuid, int(user["uid"])):
                command += ["--uid", str(user["uid"])]
            subprocess.run([*command, user["name"]], check=True, capture_output=True, text=True)
            made.append(user["name"])
        for member in members:
            top, _, rest = member.name.partition("/")
            if top == "state":
                member.name = rest
                tar.extract(member, settings.state, numeric_owner=False)
            else:
                member.name = rest
                tar.extract(member, settings.homes, numeric_owner=False)
    setup(settings)  # the exchange's folders, the configuration: as the hub wants them
    return made
