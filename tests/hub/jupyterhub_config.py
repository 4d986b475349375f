# JupyterHub on one machine with cleope kernels: the configuration
# tests/it/hub.rs runs (through class_run.py) and docs/hub.md describes.
#
# Everything that differs between machines comes from environment
# variables, so the same file serves the test (loopback, free ports, a
# temporary state folder) and a classroom server:
#
#   CLEOPE_HUB_STATE        folder for the hub's database, cookie secret and
#                           the students' home folders (created if missing)
#   CLEOPE_HUB_PORT         the public port (the proxy), default 8000
#   CLEOPE_HUB_API_PORT     the hub's own port, default 8081
#   CLEOPE_HUB_PROXY_API_PORT  configurable-http-proxy's REST port, default 8001
#   CLEOPE_HUB_PROXY        the configurable-http-proxy program
#   CLEOPE_HUB_TOKEN        (optional) the token of the "class-driver" service
#                           that starts servers for the simulated students
#   CLEOPE_HUB_KERNEL_CULL  seconds a kernel may sit idle and disconnected
#                           before its Jupyter server shuts it down (600)
#   CLEOPE_HUB_SERVER_CULL  seconds a user's server may sit idle before the
#                           idle culler stops it (3600)
#   CLEOPE_DEMO_ARCHIVE     (optional) passed on to the kernels
#
# The kernel itself is found as a kernelspec in this Python environment's
# prefix: `cleope kernel install --prefix "$(python -c 'import sys;
# print(sys.prefix)')" --memory 1GiB ...` fixes every student's quotas.

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub defines it)

env = os.environ
state = Path(env.get("CLEOPE_HUB_STATE", "/srv/jupyterhub")).resolve()
state.mkdir(parents=True, exist_ok=True)
kernel_cull = int(env.get("CLEOPE_HUB_KERNEL_CULL", "600"))
server_cull = int(env.get("CLEOPE_HUB_SERVER_CULL", "3600"))

# Network: everything on loopback (put a TLS reverse proxy in front for a class).
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(env.get("CLEOPE_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env.get("CLEOPE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env.get('CLEOPE_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [env.get("CLEOPE_HUB_PROXY", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
# The hub reads the proxy's activity and each server reports its own often
# enough for the idle culler to see who is working.
c.JupyterHub.last_activity_interval = min(300, max(5, server_cull // 4))

# Who: any name logs in (the test's students). A class uses a real
# authenticator instead (PAM, OAuth, shared password).
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True

# Where: every student's server is a local process of the hub's Unix user,
# with its own home folder (so its own ~/cleope workspace). On a shared
# machine use LocalProcessSpawner with real Unix users, or systemdspawner.
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(state / "home" / "{username}")
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.args = [
    # Jupyter server shuts a kernel down once nobody is connected to it and
    # it has been idle this long (cleope holds ~20 MiB per idle kernel).
    f"--MappingKernelManager.cull_idle_timeout={kernel_cull}",
    f"--MappingKernelManager.cull_interval={max(1, min(60, kernel_cull // 5))}",
]
if os.geteuid() == 0:
    # Containers (CI) run everything as root; Jupyter refuses that unless told.
    c.Spawner.args.append("--allow-root")
c.Spawner.environment = {
    # How often the server tells the hub it is active (the culler's clock).
    "JUPYTERHUB_ACTIVITY_INTERVAL": str(min(300, max(2, server_cull // 6))),
}
if env.get("CLEOPE_DEMO_ARCHIVE"):
    # Kernels inherit their server's environment; the spawner passes only
    # what it is told to.
    c.Spawner.environment["CLEOPE_DEMO_ARCHIVE"] = env["CLEOPE_DEMO_ARCHIVE"]

# Services: the idle culler stops servers idle longer than server_cull;
# the class driver (tests only) starts servers and reaches them.
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={server_cull}",
            f"--cull-every={max(2, min(600, server_cull // 4))}",
        ],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
if env.get("CLEOPE_HUB_TOKEN"):
    c.JupyterHub.services.append({"name": "class-driver", "api_token": env["CLEOPE_HUB_TOKEN"]})
    c.JupyterHub.load_roles.append(
        {
            "name": "class-driver",
            "scopes": ["admin:users", "admin:servers", "access:servers", "list:users"],
            "services": ["class-driver"],
        }
    )
