"""A replicated Redis on free ports for tests: a primary, its replicas and, optionally, Redis
Sentinel (Debian's ``redis-sentinel``) watching them (docs/resilience.md, "Redis replicas and
Sentinel").

``python -m tools.redisgroup WORKDIR`` starts one (a primary, two replicas, three sentinels),
prints the settings that reach it and runs until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tools.localservices import Redis, ServiceError, free_port, wait_port

SERVICE = "snipshop"
#: How long the sentinels wait before they call an unanswering primary down (production: 5 to 30 s).
DOWN_AFTER_MS = 1000
#: How long the sentinels give one failover before another may be tried.
FAILOVER_TIMEOUT_MS = 10_000


@dataclass
class RedisGroup:
    workdir: Path
    replicas: int = 2
    sentinels: int = 3
    service: str = SERVICE
    servers: list[Redis] = field(default_factory=list)
    watchers: list[subprocess.Popen] = field(default_factory=list)
    sentinel_ports: list[int] = field(default_factory=list)

    # -- addresses ----------------------------------------------------------------------------

    @property
    def sentinel_list(self) -> str:
        """``REDIS_SENTINELS``."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def primary(self) -> Redis:
        """The server that is the primary now (as the servers say of themselves)."""
        for server in self.servers:
            if server.process is not None and server.process.poll() is None and self.role(server) == "master":
                return server
        raise ServiceError("no server of the group is a primary")

    def replica_servers(self) -> list[Redis]:
        primary = self.primary()
        return [s for s in self.servers if s.process is not None and s.process.poll() is None and s is not primary]

    @staticmethod
    def role(server: Redis) -> str:
        try:
            return str(redis.Redis(port=server.port, socket_timeout=1).info("replication")["role"])
        except redis.RedisError:
            return "down"

    def named_primary(self) -> int | None:
        """The primary's port as the first answering sentinel names it."""
        for port in self.sentinel_ports:
            try:
                found = redis.Redis(port=port, socket_timeout=1).sentinel_get_master_addr_by_name(self.service)
            except redis.RedisError:
                continue
            if isinstance(found, (tuple, list)):
                return int(found[1])
        return None

    # -- life ---------------------------------------------------------------------------------

    def start(self, timeout: float = 30) -> RedisGroup:
        self.workdir.mkdir(parents=True, exist_ok=True)
        primary = Redis(free_port(), self.workdir / "primary").start()
        self.servers.append(primary)
        for i in range(self.replicas):
            self.servers.append(self.start_replica(free_port(), self.workdir / f"replica{i + 1}", primary.port))
        self._wait(lambda: all(self._linked(s) for s in self.servers[1:]), timeout, "the replicas to sync")
        for i in range(self.sentinels):
            self._start_sentinel(i + 1, primary.port)
        self._wait(self._watching, timeout, "the sentinels to see every replica and each other")
        return self

    @staticmethod
    def start_replica(port: int, workdir: Path, primary_port: int) -> Redis:
        """A server on ``port`` replicating the one on ``primary_port`` (``REPLICAOF``)."""
        server = Redis(port, workdir).start()
        redis.Redis(port=port, socket_timeout=2).replicaof("127.0.0.1", primary_port)
        return server

    def restart(self, index: int) -> Redis:
        """Start ``servers[index]`` again, on its port and in its directory, as a replica of the
        primary now."""
        old = self.servers[index]
        self.servers[index] = self.start_replica(old.port, old.workdir, self.primary().port)
        return self.servers[index]

    def _start_sentinel(self, n: int, primary_port: int) -> None:
        port = free_port()
        home = self.workdir / f"sentinel{n}"
        home.mkdir(parents=True, exist_ok=True)
        conf = home / "sentinel.conf"  # the sentinel rewrites it with what it learns
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {home}\nlogfile {home / 'sentinel.log'}\n"
            f"sentinel monitor {self.service} 127.0.0.1 {primary_port} {self.sentinels // 2 + 1}\n"
            f"sentinel down-after-milliseconds {self.service} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {self.service} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {self.service} 1\n"
        )
        binary = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
        proc = subprocess.Popen([binary, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.watchers.append(proc)
        self.sentinel_ports.append(port)
        wait_port(port, what="Redis Sentinel")

    def _linked(self, server: Redis) -> bool:
        try:
            return redis.Redis(port=server.port, socket_timeout=1).info("replication").get("master_link_status") == "up"
        except redis.RedisError:
            return False

    def _watching(self) -> bool:
        for port in self.sentinel_ports:
            try:
                state = redis.Redis(port=port, socket_timeout=1).sentinel_master(self.service)
            except redis.RedisError:
                return False
            if not isinstance(state, dict):
                return False
            if state["num-slaves"] < self.replicas or state["num-other-sentinels"] < self.sentinels - 1:
                return False
        return True

    @staticmethod
    def _wait(check, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.1)
        raise ServiceError(f"timed out waiting for {what}")

    def kill(self, server: Redis) -> None:
        """SIGKILL one server (no shutdown, nothing saved)."""
        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)

    def wait_failover(self, old_port: int, timeout: float = 30) -> Redis:
        """Until the sentinels name another primary, it says it is one and the other replicas
        follow it; that new primary."""

        def done() -> bool:
            named = self.named_primary()
            if named is None or named == old_port:
                return False
            new = next((s for s in self.servers if s.port == named), None)
            if new is None or self.role(new) != "master":
                return False
            return all(self._linked(s) for s in self.replica_servers())

        self._wait(done, timeout, "a failover")
        return self.primary()

    def stop(self) -> None:
        for proc in self.watchers:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for proc in self.watchers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        for server in self.servers:
            if server.process is not None and server.process.poll() is None:
                server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.redisgroup")
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--sentinels", type=int, default=3)
    args = parser.parse_args(argv)
    group = RedisGroup(args.workdir, args.replicas, args.sentinels).start()
    try:
        replica = group.servers[1].port if len(group.servers) > 1 else group.servers[0].port
        print(f"REDIS_URL=redis://127.0.0.1:{group.servers[0].port}/0")
        print(f"REDIS_SENTINELS={group.sentinel_list}")
        print(f"REDIS_SENTINEL_SERVICE={group.service}")
        print(f"REDIS_READ_URL=redis://127.0.0.1:{replica}/0")
        print("REDIS_WAIT_REPLICAS=1", flush=True)
        stop = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop)
        signal.sigwait(stop)
    finally:
        group.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
