"""Several server processes on one listening socket, for the multi-process benchmark.

    .venv/bin/python bench/multiproc.py --port 18100 --procs 2 [--server uvicorn|daphne]

Binds 127.0.0.1:PORT once and starts PROCS uvicorn (as production runs it, but
with permessage-deflate as BENCH_WS_DEFLATE says) or daphne processes that all
accept on it (`--fd`), so the kernel spreads connections over them with no proxy in the
way: a stand-in for "one process per core behind a load balancer". They must share
the Redis channel layer (bench/serve.sh sets it). Stays in the foreground as their
parent (so /proc accounting of this pid and its children covers them all); SIGTERM
stops them.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    args = parser.parse_args()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(2048)
    listener.set_inheritable(True)
    fd = listener.fileno()
    if args.server == "uvicorn":
        deflate = os.environ.get("BENCH_WS_DEFLATE", "false")
        options = ["--no-access-log", "--log-level", "warning", "--ws-per-message-deflate", deflate]
        options += ["--http", "chatsite.http_protocol:HttpProtocol"]
        options += ["--ws", "rooms.realtime.wire.uvicorn:WebSocketProtocol", "--ws-max-size", "65536"]
        command = [sys.executable, "-m", "uvicorn", "--fd", str(fd), *options]
    else:
        command = [sys.executable, "-m", "daphne", "--fd", str(fd), "--websocket-max-message-size", "65536"]
    command.append("chatsite.asgi:application")
    children = [subprocess.Popen(command, cwd=ROOT, pass_fds=(fd,)) for _ in range(args.procs)]  # noqa: S603

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()
    return 1


if __name__ == "__main__":
    sys.exit(main())
