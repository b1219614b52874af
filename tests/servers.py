"""Real server processes for integration and browser tests: uvicorn, daphne, redis-server."""

from __future__ import annotations

import http.client
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 30.0


def production_uvicorn_options() -> list[str]:
    """uvicorn's options as the Procfile's web process runs it, but --host and --port."""
    web = next(line for line in (BASE_DIR / "Procfile").read_text().splitlines() if line.startswith("web:"))
    words = shlex.split(web.removeprefix("web:"))
    assert words[0] == "uvicorn", f"the web process is not uvicorn: {web}"
    assert words[-1] == "chatsite.asgi:application", f"the web process serves something else: {web}"
    options, words = [], words[1:-1]
    while words:
        option = words.pop(0)
        if option in ("--host", "--port"):
            words.pop(0)
        else:
            options.append(option)
    return options


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    """Run manage.py with `env`; fail the test with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        output = f"{result.stdout}\n{result.stderr}"
        pytest.fail(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{output}")
    return result.stdout


def server_env(**variables: str) -> dict[str, str]:
    """This environment for a server process, with `variables` on top and no .env file."""
    fixed = {"DJANGO_SETTINGS_MODULE": "chatsite.settings", "DJANGO_ENV_FILE": os.devnull}
    return {**os.environ, **fixed, **variables}


@dataclass
class AsgiServer:
    """A daphne or uvicorn process serving chatsite.asgi:application."""

    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """What the server printed so far, for failure messages."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate (then kill) the process."""
        stop(self.process)


def start_server(
    env: dict[str, str],
    workdir: Path,
    name: str = "daphne",
    extra_args: Sequence[str] = (),
    server: str = "daphne",
    port: int | None = None,
) -> AsgiServer:
    """Start daphne, or uvicorn as the Procfile runs it (server="uvicorn"); wait for /healthz 200.

    `extra_args` are server options (e.g. ``--ping-interval 1``), put after those (the last one wins).
    `port`: a given one (a restart on the port the browser knows), else a free one.
    """
    port = port or free_port()
    log_path = workdir / f"{name}.log"
    if server == "uvicorn":
        command = [
            *(sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)),
            *production_uvicorn_options(),
            *extra_args,
        ]
    else:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), *extra_args]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "chatsite.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    started = AsgiServer(process=process, port=port, log_path=log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{command[2]} exited with {process.returncode}:\n{started.log()}")
        if _healthz_status(port) == 200:
            return started
        time.sleep(0.2)
    started.stop()
    pytest.fail(f"{command[2]} did not answer /healthz with 200 in {START_TIMEOUT_S:.0f}s:\n{started.log()}")


def _healthz_status(port: int) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def stop(process: subprocess.Popen) -> None:
    """Terminate a process, killing it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RedisServer:
    """A redis-server of the test's own on a free port, keeping nothing on disk, restartable."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        pytest.fail("redis-server did not start")

    def kill(self) -> None:
        """Die at once, losing everything (SIGKILL, no persistence)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        """A crash and a restart: Redis comes back empty."""
        self.kill()
        self.start()
