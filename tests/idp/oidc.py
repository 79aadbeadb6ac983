"""node-oidc-provider in a process of its own (tests/idp/oidc_provider.mjs), for the tests."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
STARTUP_TIMEOUT = 30


class Unavailable(Exception):
    """Node or the npm packages are missing here: the reason, to skip with."""


def ensure_installed() -> None:
    """`npm ci` the provider's packages (package-lock.json) if they are not there yet."""
    if (NODE_MODULES / "oidc-provider").is_dir():
        return
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        raise Unavailable("the OpenID Connect provider of the tests needs Node.js and npm (apt-get install nodejs npm)")
    result = subprocess.run(  # noqa: S603 - fixed argv
        [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(HERE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0 or not (NODE_MODULES / "oidc-provider").is_dir():
        raise Unavailable(f"`npm ci --prefix tests/idp` failed: {result.stderr.strip()[-500:]}")


@contextlib.contextmanager
def run(*, port: int, clients: list[dict], accounts: dict[str, dict], redirect_paths: list[str], log_path: Path):
    """Serve an OpenID Connect provider at http://127.0.0.1:`port` until the block ends."""
    ensure_installed()
    config = json.dumps({"port": port, "clients": clients, "accounts": accounts, "redirect_paths": redirect_paths})
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [shutil.which("node"), str(HERE / "oidc_provider.mjs")],
            cwd=HERE,
            env={"PATH": os.environ.get("PATH", ""), "OIDC_TEST_CONFIG": config, "NODE_ENV": "test"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"oidc-provider exited with {process.returncode}:\n{log_path.read_text()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"oidc-provider did not listen within {STARTUP_TIMEOUT} s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
