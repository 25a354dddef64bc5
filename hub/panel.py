"""Learners added from JupyterHub's admin panel: real learners of the course.

JupyterHub's ``LocalAuthenticator.create_system_users`` would run ``adduser`` with no
password and no group: such a user could neither log in nor see the course. Here an
instructor's *Add Users* in the admin panel makes a learner as ``make hub-learners``
does (``fmnist_hub.add_learner_from_panel``). A name that is already a user of the
machine but not of the course is refused, so the panel cannot put a system account
(root, say) on the hub. Adding users needs JupyterHub's ``admin:users`` scope, which
would also let an instructor rename users, and a user renamed to another's login name
becomes that person: :func:`keep_renames_to_admins` closes that.
"""

from __future__ import annotations

import datetime

import fmnist_hub
from jupyterhub.auth import PAMAuthenticator


def keep_renames_to_admins() -> None:
    """Let only the hub's admins rename a user (the panel's *Edit User*, ``PATCH /users``)."""
    from jupyterhub.apihandlers.users import UserAPIHandler
    from tornado import web

    original = UserAPIHandler.patch
    if getattr(original, "keeps_renames_to_admins", False):
        return

    async def patch(self, user_name):
        data = self.get_json_body() or {}
        asker = self.current_user
        if data.get("name", user_name) != user_name and not getattr(asker, "admin", False):
            raise web.HTTPError(403, "Only the hub's admins can rename a user.")
        return await original(self, user_name)

    patch.keeps_renames_to_admins = True
    UserAPIHandler.patch = patch


#: How recent a hub user must be for its Unix account to be made (seconds).
NEW_USER_S = 300


class CourseAuthenticator(PAMAuthenticator):
    """PAM logins for the course's groups; users added in the admin panel become learners."""

    async def add_user(self, user) -> None:
        """Refuse a system account that is not the course's; make a new learner's account."""
        if self.system_user_exists(user) and not fmnist_hub.Settings().is_member(user.name):
            raise ValueError(
                f"{user.name} is a user of this machine but not of the course; add learners "
                "in the admin panel with new names, or with `make hub-learners`."
            )
        await super().add_user(user)

    def add_system_user(self, user) -> None:
        """Create the learner a user of the admin panel just added (never an old user).

        The hub also calls this at start for every user of its database: one whose Unix
        account is gone was removed on purpose, and is not made again.
        """
        created = getattr(user, "created", None)
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        if created is not None and created.tzinfo is not None:
            created = created.astimezone(datetime.UTC).replace(tzinfo=None)
        if created is None or (now - created).total_seconds() > NEW_USER_S:
            raise KeyError(
                f"{user.name} has no Unix account any more, so it is not made again: remove "
                "them in the admin panel, or add them back with `make hub-learners`."
            )
        fmnist_hub.add_learner_from_panel(fmnist_hub.Settings(), user.name)
