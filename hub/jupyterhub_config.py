"""JupyterHub configuration of the course on one machine (``make hub`` starts it).

Real Unix users log in with their password (PAM); each gets their own JupyterLab,
run as themselves in the course's environment, with the lessons copied into
``~/lessons`` on first start. Learners fetch and submit lessons through nbgrader's
exchange; instructors (the ``fmnist-instructors`` group) also get nbgrader's
formgrader and course tools. Settings come from ``FMNIST_HUB_*`` variables
(hub/fmnist_hub.py); local changes go in ``<state>/config.d/*.py`` (docs/instructors/hub.md).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fmnist_hub import USER_NAME, Settings
from limits import LimitedSpawner
from panel import CourseAuthenticator, keep_renames_to_admins

c = get_config()  # noqa: F821 -- provided by traitlets when it loads this file
settings = Settings()

# --- where it listens: loopback only, unless FMNIST_HUB_IP says otherwise ---------------
c.JupyterHub.bind_url = settings.url
if settings.ssl_cert and settings.ssl_key:
    # HTTPS from the hub itself (the proxy terminates it); FMNIST_HUB_SSL_CERT and _KEY
    c.JupyterHub.ssl_cert = str(settings.ssl_cert)
    c.JupyterHub.ssl_key = str(settings.ssl_key)
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings.hub_port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [str(settings.proxy_command)]
c.ConfigurableHTTPProxy.pid_file = str(settings.private / "proxy.pid")

# --- the hub's own state: root only --------------------------------------------------
# Restarting the hub (an upgrade, a new setting) leaves learners' servers running: it
# finds them again from its database when it comes back.
c.JupyterHub.cleanup_servers = False
c.JupyterHub.db_url = f"sqlite:///{settings.private / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(settings.private / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(settings.private / "jupyterhub.pid")

# --- who may log in: the learners' and instructors' Unix groups, with their password --
# (PAM); a user an instructor adds in the admin panel becomes a learner (hub/panel.py).
c.JupyterHub.authenticator_class = CourseAuthenticator
keep_renames_to_admins()  # adding learners must not let an instructor become one
c.LocalAuthenticator.allowed_groups = settings.groups
c.LocalAuthenticator.create_system_users = True
c.Authenticator.username_pattern = USER_NAME.pattern
c.JupyterHub.load_groups = {
    "instructors": {"users": sorted(settings.instructors_group_members())},
}
# Instructors see who is active in the admin panel, may start or stop a learner's
# server and add learners there; they cannot open a learner's server (no
# access:servers), make anyone an admin (JupyterHub keeps that to admins), or rename a
# user (keep_renames_to_admins above).
c.JupyterHub.load_roles = [
    {
        "name": "instructor",
        "scopes": [
            "admin-ui",
            "list:users",
            "read:users:activity",
            "read:servers",
            "servers",
            "admin:users",
        ],
        "groups": ["instructors"],
    },
    {
        # The token of root's tools (tests, scripts): <state>/private/admin-token.
        "name": "fmnist-admin",
        "scopes": [
            "admin:users",
            "admin:servers",
            "tokens",
            "list:users",
            "read:users",
            "admin:groups",
        ],
        "services": ["fmnist-admin"],
    },
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    },
]
c.JupyterHub.services = [
    {"name": "fmnist-admin", "api_token": settings.admin_token()},
    {
        # Stops a server nobody used for FMNIST_HUB_IDLE_TIMEOUT seconds; its files stay.
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={settings.idle_timeout}",
            f"--cull-every={max(60, settings.idle_timeout // 6)}",
        ],
    },
]

# --- each user's JupyterLab -----------------------------------------------------------
# Each learner's server, kernels and terminals share one memory and CPU limit (cgroups).
c.JupyterHub.spawner_class = LimitedSpawner
c.Spawner.mem_limit = settings.mem_limit
c.Spawner.cpu_limit = settings.cpu_limit
c.Spawner.cmd = [
    str(settings.runtime / "bin" / "python"),
    str(settings.state / "bin" / "start_singleuser.py"),
]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120


def pre_spawn_hook(spawner) -> None:
    """Give the user the course's environment; instructors also their nbgrader tools.

    Only the course's learners and instructors get a server, whoever asks for it.
    """
    if not settings.is_member(spawner.user.name):
        raise RuntimeError(f"{spawner.user.name} is not a learner or instructor of the course")
    spawner.environment = {
        **spawner.environment,
        **settings.server_environment(spawner.user.name),
    }


c.Spawner.pre_spawn_hook = pre_spawn_hook

# --- local additions: an institution's authenticator, HTTPS settings, limits -----------
for extra in sorted((settings.state / "config.d").glob("*.py")):
    load_subconfig(str(extra))  # noqa: F821
