"""`make bench`: start Let's Talk locally and run the load client's presets against it.

    .venv/bin/python -m bench.local [--presets A,B,C] [--layer memory|redis] [--procs N]
                                    [--server uvicorn|daphne] [--workers W] [--repeat R]

Prepares a bench database (SQLite under /tmp, or --database-url; migrated, users
1..1000), starts bench/serve.sh pinned to the last CPU (taskset, when there are 2+
CPUs) with the client on the others, runs each preset, stops the server, and prints
one line per run plus a table. The server's CPU and peak RSS come from /proc.

Side by side with the original Node.js server and the bare-Python ceiling, use the
Node generator instead: bench/run_compare.sh (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import loadclient

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-only-jwt-secret-0123456789abcdef0123"  # noqa: S105 (a local bench server's key)
ISSUER = "lets-talk-bench"
DEFAULT_DB = "sqlite:////tmp/letstalk-bench.sqlite3"
USERS = 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(database_url: str) -> None:
    env = {**os.environ, "DJANGO_ENV_FILE": os.devnull, "DJANGO_DEBUG": "1", "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    for command in (["manage.py", "migrate", "--no-input", "-v", "0"], ["bench/prepare_db.py", str(USERS)]):
        subprocess.run([sys.executable, *command], cwd=ROOT, env=env, check=True)  # noqa: S603


def pin(cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus] if cpus else []


def start_server(args: argparse.Namespace, port: int, cpus: str | None) -> subprocess.Popen:
    env = {
        **os.environ,
        "PORT": str(port),
        "CHAT_JWT_SECRET": SECRET,
        "CHAT_JWT_ISS": ISSUER,
        "BENCH_DATABASE_URL": args.database_url,
        "BENCH_REDIS_URL": args.redis_url,
    }
    command = [*pin(cpus), str(ROOT / "bench/serve.sh"), args.layer, args.server, str(args.procs)]
    log = open(args.log_dir / f"server-{port}.log", "w")  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}; see {log.name}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                time.sleep(0.5 if args.procs == 1 else 2.0)  # let every process listen
                return process
        time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"server did not listen on {port} in 30 s; see {log.name}")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def row(name: str, result: dict) -> str:
    c, d, lat, s = result["connect"], result["deliveries"], result["latency_ms"], result.get("server", {})
    return (
        f"| {name} | {c['ok']}/{c['attempted']} in {c['total_ms']:.0f} ms | {d['per_s'] or '-'} | "
        f"{lat['p50'] or '-'} / {lat['p99'] or '-'} | {d['lost']} | {d['out_of_order']} | "
        f"{s.get('cpu_us_per_delivery') or '-'} | {s.get('peak_rss_mb') or '-'} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="A,B,C")
    parser.add_argument("--layer", choices=["memory", "redis"], default="memory")
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--procs", type=int, default=1, help="server processes (redis layer) [1]")
    parser.add_argument("--workers", type=int, default=1, help="load client processes [1]")
    parser.add_argument("--parse", choices=["full", "fast"], default="full")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--log-dir", type=Path, default=Path("/tmp/letstalk-bench"))  # noqa: S108
    parser.add_argument("--json", dest="json_path", type=Path, help="write every run's report here (a list)")
    args = parser.parse_args(argv)
    if args.procs > 1 and args.layer != "redis":
        parser.error("--procs > 1 needs --layer redis")
    args.log_dir.mkdir(parents=True, exist_ok=True)

    prepare(args.database_url)
    cpus = os.cpu_count() or 1
    server_cpus = str(cpus - 1) if cpus > 1 else None
    client_cpus = f"0-{cpus - 2}" if cpus > 1 else None
    if client_cpus:
        os.sched_setaffinity(0, {int(c) for c in range(cpus - 1)})
    name = f"{args.server} {args.layer}" + (f" x{args.procs}" if args.procs > 1 else "")
    results = []
    for preset in [p.strip().upper() for p in args.presets.split(",") if p.strip()]:
        for repeat in range(args.repeat):
            port = free_port()
            server = start_server(args, port, server_cpus)
            try:
                options = loadclient.build_parser().parse_args(
                    [
                        f"--url=ws://127.0.0.1:{port}",
                        f"--preset={preset}",
                        f"--jwt-secret={SECRET}",
                        f"--iss={ISSUER}",
                        f"--user-ids=1-{USERS}",
                        f"--workers={args.workers}",
                        f"--parse={args.parse}",
                    ]
                )
                config = loadclient.config_from_args(options)
                label = f"{name} {preset} r{repeat + 1}"
                result = loadclient.run(config, [server.pid], label)
            finally:
                stop_server(server)
            print(loadclient.summary(result), flush=True)
            results.append((f"{preset} {name} r{repeat + 1}", result))
    print(
        "\n| run | connected | deliveries/s | latency p50 / p99 ms | lost | out of order "
        "| server CPU µs/delivery | server peak RSS MB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, result in results:
        print(row(label, result))
    if args.json_path:
        args.json_path.write_text(json.dumps([r for _, r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
