"""CPU per request of WSGI apps called in this process: for costs of a few microseconds, which
throughput through a server on a shared machine cannot show (bench/metrics.py, bench/canary.py)."""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.stack import PYTHON, Stack


def call(app: Any, path: str, cookie: str | None = None) -> None:
    """One GET of ``path``, anonymous or with a ``Cookie`` header; it must answer 200."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "bench",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    statuses: list[str] = []
    for _ in app(environ, lambda status, headers, exc_info=None: statuses.append(status)):
        pass
    assert statuses == ["200 OK"], (path, statuses)


def compare(
    a: Any, b: Any, paths: list[str], requests: int, rounds: int, cookie: str | None = None
) -> tuple[float, float, float]:
    """Edge apps ``a`` and ``b`` answer ``paths`` in turn (after a warm-up in which the near cache
    starts listening and pages are kept), in alternating rounds of ``requests`` each, every
    request with ``cookie`` (a ``Cookie`` header) if given. Returns the median microseconds of
    CPU per request of ``a`` and of ``b`` and the median ratio a ÷ b."""
    for n in range(3):
        for app in (a, b):
            for path in paths:
                call(app, path, cookie)
        time.sleep(0.5 if n == 0 else 0)
    per_request: dict[int, list[float]] = {0: [], 1: []}
    apps = (a, b)
    for r in range(rounds):
        for side in (0, 1) if r % 2 == 0 else (1, 0):
            started = time.process_time()
            for i in range(requests):
                call(apps[side], paths[i % len(paths)], cookie)
            per_request[side].append((time.process_time() - started) / requests * 1e6)
    ratio = statistics.median(x / y for x, y in zip(per_request[0], per_request[1], strict=True))
    return statistics.median(per_request[0]), statistics.median(per_request[1]), ratio


def in_own_process(stack: Stack, module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m module args`` with ``stack``'s environment (a fresh interpreter, so this
    process's servers and threads cost it nothing) and return its last line of output, JSON."""
    done = subprocess.run(
        [PYTHON, "-m", module, *args],
        env=stack.env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])
