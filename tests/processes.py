"""Real processes for integration and end-to-end tests: worker, scheduler, edge, admin."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import requests

from projector.celery_app import SMALL_MACHINE_WORKERS
from tools.localservices import free_port, wait_port
from tools.processes import REPO, Process  # noqa: F401 - REPO is used by the tests

PYTHON = sys.executable
T = TypeVar("T")


def worker_args(name: str = "worker", concurrency: int = 2, queues: Sequence[str] | None = None) -> list[str]:
    """The command line of a real Celery worker (prefork pool) named ``name``, serving ``queues``
    (default: all of them)."""
    chosen = [f"--queues={','.join(queues)}"] if queues else []
    return [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "entrypoints.worker",
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        *chosen,
    ]


def start_worker(
    env: dict[str, str], log_dir: Path, name: str = "worker", concurrency: int = 2, queues: Sequence[str] | None = None
) -> Process:
    p = Process(name, worker_args(name, concurrency, queues), env, log_dir)
    p.wait_log("ready.", 60)
    return p


def start_queue_workers(env: dict[str, str], log_dir: Path, concurrency: dict[str, int] | None = None) -> list[Process]:
    """One worker per group of :data:`~projector.celery_app.SMALL_MACHINE_WORKERS` (stock; the
    rest), as ./dev demo runs them, started at once, each ready when this returns. ``concurrency``
    by worker name (default: 1 for stock, 2 for the rest). Each gets a metrics port of its own."""
    sizes = {"stock": 1, "main": 2} | (concurrency or {})
    started = [
        Process(
            name,
            worker_args(name, sizes[name], queues),
            {**env, "WORKER_METRICS_PORT": str(free_port()) if env.get("WORKER_METRICS_PORT", "1") != "0" else "0"},
            log_dir,
        )
        for name, queues in SMALL_MACHINE_WORKERS.items()
    ]
    for p in started:
        p.wait_log("ready.", 60)
    return started


def start_scheduler(env: dict[str, str], log_dir: Path) -> Process:
    return Process(
        "scheduler",
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "entrypoints.worker",
            "beat",
            "--loglevel=INFO",
            "-s",
            str(log_dir / "beat-schedule"),
        ],
        env,
        log_dir,
    )


def start_http(role: str, env: dict[str, str], log_dir: Path) -> tuple[Process, str]:
    port = free_port()
    p = Process(
        role,
        [PYTHON, "-m", "entrypoints.snipshop_cli", "serve", role, "--port", str(port), "--workers", "2"],
        env,
        log_dir,
    )
    try:
        wait_port(port, 60, role)
    except RuntimeError:
        raise RuntimeError(f"{role} did not start:\n{p.log()}") from None
    return p, f"http://127.0.0.1:{port}"


def poll(check: Callable[[], T], timeout: float, interval: float = 0.05) -> T | None:
    """Poll ``check`` until it returns a truthy value and return that value; None if ``timeout``
    seconds pass first (for a condition that may rightly never come; else :func:`wait_until`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)  # the polling interval: what is waited for is ``check``
    return None


def wait_until(check, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Poll ``check`` until it returns a truthy value; return that value."""
    value = poll(check, timeout, interval)
    if not value:
        raise AssertionError(f"{what} not reached within {timeout}s")
    return value


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=10, **kwargs)
