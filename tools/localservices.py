"""Start throwaway PostgreSQL and Redis servers on loopback, for ./dev and the test suite.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user
(created by the Debian package), and Elasticsearch (tools/elasticsearch.py) as ``nobody``. Those
users may not be able to reach the clone at all (``/root/shop``, or a ``mktemp -d`` directory, is
mode 700), so as root whatever they must read or write lives in a directory of this clone's own
outside it: :func:`service_dir`, ``/var/lib/snipshop/<clone name>-<hash of its path>/``
(PostgreSQL's data in ``pg/``, the Elasticsearch distribution in ``elasticsearch/``). Not as root,
every service runs as the caller and PostgreSQL's data stays in the state directory (``.state/pg``).
Redis runs as the caller in both cases (``.state/redis``).

A server already listening on the port is reused only if it is this clone's own (PostgreSQL: the
data directory's ``postmaster.pid``; Redis: its working directory); anything else is an error
that says which port to change. Every failure raises :class:`ServiceError` with what went wrong
and what to do; the CLI prints it and exits 1. Stopping is ``pg_ctl stop`` and ``SHUTDOWN NOSAVE``.

    python -m tools.localservices up STATE_DIR [--pg-port P] [--redis-port P]   (prints shell exports)
    python -m tools.localservices down STATE_DIR
    python -m tools.localservices where STATE_DIR      (the directories this clone's services use)
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_BIN_CANDIDATES = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin")]
#: As root: per-clone directories for the files of services that run as other users.
SERVICE_ROOT = Path("/var/lib/snipshop")
DEFAULT_PG_PORT = 55432
DEFAULT_REDIS_PORT = 56379
PG_USER = "postgres"


class ServiceError(RuntimeError):
    """A local service could not be started or stopped; the message says why and what to do."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_cluster_ports(count: int) -> tuple[int, ...]:
    """Ports for Redis Cluster nodes: each free, and so is its cluster bus port (the port + 10000,
    hence at most 55535)."""
    import random

    chosen: list[int] = []
    while len(chosen) < count:
        port = random.randrange(20000, 45000)  # noqa: S311 - not security
        if port not in chosen and all(_bindable(p) for p in (port, port + 10000)):
            chosen.append(port)
    return tuple(chosen)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


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
        raise ServiceError(f"PostgreSQL binary {name!r} not found: install the Debian package 'postgresql'")
    return found


# ---------------------------------------------------------------------------------------------
# Where the files of services running as other users live


def service_dir(repo: Path = REPO) -> Path:
    """This clone's directory for files that services running as other users need (as root).

    Keyed by the clone's resolved path, so two clones never share one, and one clone always
    finds its own again."""
    repo = Path(repo).resolve()
    digest = hashlib.sha256(str(repo).encode()).hexdigest()[:12]
    return SERVICE_ROOT / f"{repo.name}-{digest}"


def reachable_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0755, whatever the umask; return it."""
    path = Path(path)
    missing = [p for p in [*reversed(path.parents), path] if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for p in missing:
        p.chmod(0o755)
    return path


def ensure_service_dir(repo: Path = REPO) -> Path:
    """:func:`service_dir`, created reachable by every user, with a note of the clone it serves."""
    d = reachable_dir(service_dir(repo))
    note = d / "clone"
    if not note.exists():
        note.write_text(f"{Path(repo).resolve()}\n")
        note.chmod(0o644)
    return d


def unreachable_ancestor(path: Path, user: str) -> Path | None:
    """The first directory on the way to ``path`` that ``user`` may not enter (None: all fine)."""
    pw = pwd.getpwnam(user)
    gids = {pw.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    for p in [*reversed(Path(path).parents), Path(path)]:
        try:
            st = p.stat()
        except FileNotFoundError:
            return None  # created later by whoever creates it
        if st.st_uid == pw.pw_uid:
            bit = 0o100
        elif st.st_gid in gids:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return p
    return None


def _as_postgres_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--"] + cmd
    return cmd


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no {path})"


# ---------------------------------------------------------------------------------------------
# The servers


@dataclass
class Postgres:
    datadir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    @property
    def log_path(self) -> Path:
        return self.datadir / "server.log"

    def start(self) -> Postgres:
        if os.geteuid() == 0:
            self._prepare_for_postgres_user()
        if not (self.datadir / "PG_VERSION").exists():
            self.datadir.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.datadir, PG_USER, PG_USER)
            self._run(
                [
                    pg_bin("initdb"),
                    "-D",
                    str(self.datadir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                "initdb",
            )
        running = self.running_port()
        if running == self.port:
            return self
        if running is not None:
            raise ServiceError(
                f"the PostgreSQL of {self.datadir} already runs on port {running}, not {self.port}: "
                f"use that port, or stop it first (./dev services down)"
            )
        if port_open(self.port):
            raise ServiceError(
                f"port {self.port} is in use by another process (not the PostgreSQL of {self.datadir}): "
                f"stop it or choose another port (./dev: PG_PORT=...)"
            )
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            [
                pg_bin("pg_ctl"),
                "-D",
                str(self.datadir),
                "-o",
                opts,
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                "60",
                "start",
            ],
            "pg_ctl start",
        )
        try:
            wait_port(self.port, what="PostgreSQL")
        except RuntimeError as e:
            raise ServiceError(f"{e}; last lines of {self.log_path}:\n{_tail(self.log_path)}") from None
        return self

    def _prepare_for_postgres_user(self) -> None:
        """As root the server runs as ``postgres``: its data directory must be reachable by it."""
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            raise ServiceError(f"user {PG_USER!r} does not exist: install the Debian package 'postgresql'") from None
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.datadir.parent, 0o755)
        blocked = unreachable_ancestor(self.datadir.parent, PG_USER)
        if blocked is not None:
            raise ServiceError(
                f"PostgreSQL runs as {PG_USER!r} (it refuses to run as root) and cannot enter {blocked} on the "
                f"way to its data directory {self.datadir}: put the data directory elsewhere "
                f"(./dev uses {SERVICE_ROOT}/...) or chmod o+x {blocked}"
            )

    def _run(self, cmd: list[str], what: str) -> None:
        proc = subprocess.run(_as_postgres_user(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            log = f"\nlast lines of {self.log_path}:\n{_tail(self.log_path)}" if self.log_path.exists() else ""
            raise ServiceError(
                f"PostgreSQL: {what} failed (exit {proc.returncode}) for {self.datadir} on port "
                f"{self.port}:\n{proc.stdout.strip()[-3000:]}{log}"
            )

    def running_port(self) -> int | None:
        """The port of this data directory's running server (from postmaster.pid), or None."""
        try:
            lines = (self.datadir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return port

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres_user([pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

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
    #: More ``redis-server`` options (a cluster node's, for :class:`RedisCluster`).
    options: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, detach: bool = False) -> Redis:
        """Start the server; ``detach`` daemonizes it so it outlives this process."""
        if port_open(self.port):
            self._check_ours()
            return self
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "redis.log"
        args = [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(log),
            "--daemonize",
            "yes" if detach else "no",
            *self.options,
        ]
        if detach:
            proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if proc.returncode != 0:
                raise ServiceError(
                    f"Redis did not start on port {self.port} (exit {proc.returncode}):\n"
                    f"{proc.stdout.strip()}\nlast lines of {log}:\n{_tail(log)}"
                )
        else:
            self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(self.port, what="Redis")
        except RuntimeError as e:
            raise ServiceError(f"{e}; last lines of {log}:\n{_tail(log)}") from None
        return self

    def _check_ours(self) -> None:
        """Something listens on the port: fine if it is the Redis of this working directory."""
        import redis

        try:
            served = redis.Redis(port=self.port, socket_timeout=2).config_get("dir").get("dir")
        except redis.RedisError as e:
            served = f"not a Redis that answers ({e})"
        if served is None or Path(str(served)).resolve() != self.workdir.resolve():
            raise ServiceError(
                f"port {self.port} is in use by another server (working directory: {served}), not the Redis "
                f"of {self.workdir}: stop it or choose another port (./dev: REDIS_PORT=...)"
            )

    def stop(self) -> None:
        import redis

        with contextlib.suppress(Exception):  # already gone is fine
            redis.Redis.from_url(self.url).shutdown(nosave=True)
        if self.process is not None:
            self.process.wait(timeout=10)


@dataclass
class RedisCluster:
    """A Redis Cluster of ``len(ports)`` primaries (no replicas) on this machine, for tests:
    ``redis-server --cluster-enabled yes`` per port, joined by ``redis-cli --cluster create``."""

    ports: tuple[int, ...]
    workdir: Path
    nodes: list[Redis] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The URL of one node; a cluster client finds the others from it."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start(self, timeout: float = 30) -> RedisCluster:
        import redis

        for port in self.ports:
            node_dir = self.workdir / str(port)
            options: tuple[str, ...] = (
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node_dir / "nodes.conf"),
            )
            options += ("--cluster-node-timeout", "5000")
            self.nodes.append(Redis(port, node_dir, options=options).start())
        cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        addresses = [f"127.0.0.1:{port}" for port in self.ports]
        proc = subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0:
            self.stop()
            raise ServiceError(f"redis-cli --cluster create failed (exit {proc.returncode}):\n{proc.stdout.strip()}")
        deadline = time.monotonic() + timeout
        for port in self.ports:  # every node must agree that all slots are served
            client = redis.Redis(port=port, socket_timeout=2)
            while client.cluster("INFO").get("cluster_state") != "ok":
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServiceError(f"the Redis Cluster on ports {self.ports} did not reach cluster_state:ok")
                time.sleep(0.1)
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes.clear()


# ---------------------------------------------------------------------------------------------
# ./dev's services


def pg_datadir(state: Path) -> Path:
    """Where ./dev keeps PostgreSQL's data: reachable by the user the server runs as."""
    return (service_dir() if os.geteuid() == 0 else Path(state).resolve()) / "pg"


def _ports(state: Path, pg_port: int | None, redis_port: int | None) -> tuple[int, int]:
    """Ports given, else the ones the last ``up`` used (kept in STATE/ports.json), else the defaults."""
    try:
        last = json.loads((state / "ports.json").read_text())
    except (OSError, ValueError):
        last = {}
    return (pg_port or last.get("pg") or DEFAULT_PG_PORT, redis_port or last.get("redis") or DEFAULT_REDIS_PORT)


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.localservices up STATE_DIR``: start both and print shell exports."""
    parser = argparse.ArgumentParser(prog="python -m tools.localservices")
    parser.add_argument("action", choices=["up", "down", "where"])
    parser.add_argument("state", type=Path)
    parser.add_argument("--pg-port", type=int, help=f"default: the last one used, else {DEFAULT_PG_PORT}")
    parser.add_argument("--redis-port", type=int, help=f"default: the last one used, else {DEFAULT_REDIS_PORT}")
    args = parser.parse_args(argv)
    state = args.state.resolve()
    pg_port, redis_port = _ports(state, args.pg_port, args.redis_port)
    pg = Postgres(pg_datadir(state), pg_port)
    rd = Redis(redis_port, state / "redis")
    if args.action == "where":
        print(state)
        if os.geteuid() == 0:
            print(service_dir())
        return 0
    if args.action == "down":
        pg.stop()
        rd.stop()
        return 0
    import psycopg

    try:
        if os.geteuid() == 0:
            ensure_service_dir()
        pg.start()
        try:
            db_url = pg.create_database("snipshop")
        except psycopg.Error as e:
            raise ServiceError(f"PostgreSQL on port {pg_port} does not let us create the database: {e}") from None
        rd.start(detach=True)
    except ServiceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    state.mkdir(parents=True, exist_ok=True)
    (state / "ports.json").write_text(json.dumps({"pg": pg_port, "redis": redis_port}) + "\n")
    print(f"export DATABASE_URL={db_url}")
    print(f"export REDIS_URL={rd.url}/0")
    print(f"export CELERY_BROKER_URL={rd.url}/1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
