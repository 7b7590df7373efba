"""Start throwaway PostgreSQL and Redis servers on loopback, for ./dev and the test suite.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user
(created by the Debian package). Everything lives under one state directory; stopping is
``pg_ctl stop`` and ``SHUTDOWN NOSAVE``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PG_BIN_CANDIDATES = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_port(port: int, timeout: float = 30.0, what: str = "service") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not open port {port} within {timeout:.0f}s")


def pg_bin(name: str) -> str:
    for d in PG_BIN_CANDIDATES:
        if (d / name).exists():
            return str(d / name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL binary {name!r} not found: install the Debian package 'postgresql'")
    return found


def _as_postgres_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


@dataclass
class Postgres:
    datadir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> "Postgres":
        if os.geteuid() == 0:
            self.datadir.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(self.datadir.parent, 0o755)
        if not (self.datadir / "PG_VERSION").exists():
            self.datadir.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.datadir, "postgres", "postgres")
            subprocess.run(
                _as_postgres_user([pg_bin("initdb"), "-D", str(self.datadir), "-U", "postgres",
                                   "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                check=True, stdout=subprocess.DEVNULL,
            )
        if port_open(self.port):
            return self
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        subprocess.run(
            _as_postgres_user([pg_bin("pg_ctl"), "-D", str(self.datadir), "-o", opts, "-l",
                               str(self.datadir / "server.log"), "-w", "-t", "60", "start"]),
            check=True, stdout=subprocess.DEVNULL,
        )
        wait_port(self.port, what="PostgreSQL")
        return self

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(_as_postgres_user([pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)


@dataclass
class Redis:
    port: int
    workdir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, detach: bool = False) -> "Redis":
        """Start the server; ``detach`` daemonizes it so it outlives this process."""
        if port_open(self.port):
            return self
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
                "--logfile", str(self.workdir / "redis.log"), "--daemonize", "yes" if detach else "no"]
        if detach:
            subprocess.run(args, check=True)
        else:
            self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, what="Redis")
        return self

    def stop(self) -> None:
        import redis

        try:
            redis.Redis.from_url(self.url).shutdown(nosave=True)
        except Exception:  # noqa: BLE001 - already gone is fine
            pass
        if self.process is not None:
            self.process.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.localservices up STATE_DIR``: start both and print shell exports."""
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("state", type=Path)
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--redis-port", type=int, default=56379)
    args = parser.parse_args(argv)
    pg = Postgres(args.state.resolve() / "pg", args.pg_port)
    rd = Redis(args.redis_port, args.state.resolve() / "redis")
    if args.action == "down":
        pg.stop()
        rd.stop()
        return 0
    pg.start()
    db_url = pg.create_database("snipshop")
    rd.start(detach=True)
    print(f"export DATABASE_URL={db_url}")
    print(f"export REDIS_URL={rd.url}/0")
    print(f"export CELERY_BROKER_URL={rd.url}/1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
