"""Helpers the benchmarks share: percentiles, formatting, tables, /proc readings, HTTP, py-spy.

Nothing here starts a service or talks to the shop; :mod:`bench.stack` does that.

* Percentiles are nearest-rank on a sorted list (``values[int(n * q)]``, clamped): with 100
  samples p99 is the largest one. Small samples make p99 = max, so :func:`latency_summary`
  reports ``n`` next to it.
* CPU per process tree comes from ``/proc/<pid>/stat`` (user + system of the live processes and
  of the children they reaped), the machine's from ``/proc/stat``.
* Resident memory comes from ``/proc/<pid>/status`` (VmRSS and its parts) and
  ``/proc/<pid>/smaps_rollup`` (PSS: shared pages divided among the processes that share them).
"""

from __future__ import annotations

import http.client
import os
import shutil
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- figures -----------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (NaN when empty)."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def latency_summary(values_ms: Iterable[float]) -> dict[str, float]:
    """n, p50, p90, p99, max and mean of a list of latencies in milliseconds."""
    values = sorted(values_ms)
    n = len(values)
    return {
        "n": n,
        "p50_ms": percentile(values, 0.5),
        "p90_ms": percentile(values, 0.9),
        "p99_ms": percentile(values, 0.99),
        "max_ms": values[-1] if values else float("nan"),
        "mean_ms": sum(values) / n if n else float("nan"),
    }


def median(values: Sequence[float]) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


# --- formatting --------------------------------------------------------------------------------


def fmt_ms(v: float) -> str:
    """Milliseconds: whole above 10, one decimal below, "-" for NaN."""
    return "-" if v != v else (f"{v:.0f}" if v >= 10 else f"{v:.1f}")


def fmt_num(v: float | int | None, digits: int = 0) -> str:
    """A number with thousands separators ("-" for None or NaN)."""
    if v is None or v != v:
        return "-"
    return f"{v:,.{digits}f}"


def fmt_bytes(n: float | None) -> str:
    if n is None or n != n:
        return "-"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str | None = None) -> str:
    """A plain-text table; ``align`` has one "<" or ">" per column (default: first left, rest right)."""
    texts = [[str(c) for c in row] for row in rows]
    align = align or "<" + ">" * (len(headers) - 1)
    widths = [max([len(h)] + [len(r[i]) for r in texts]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, align, widths, strict=True)).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in texts]
    return "\n".join(out)


def machine_report() -> bool:
    """Print the CPU count and load average; True when the machine is already busy."""
    ncpu = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0))
    load1, load5, load15 = os.getloadavg()
    loaded = load1 > 0.5 * usable
    print(
        f"CPUs: {ncpu} online, {usable} usable by this process; load average {load1:.2f} {load5:.2f} {load15:.2f} "
        f"-> {'LOADED (other work is running; figures will be low)' if loaded else 'not loaded'}",
        flush=True,
    )
    return loaded


# --- /proc -------------------------------------------------------------------------------------


def proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, CPU ticks incl. reaped children) for every process."""
    table_ = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2 :].split()
        table_[int(entry)] = (int(rest[1]), sum(int(v) for v in rest[11:15]))
    return table_


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (e.g. an HTTP server master's workers), in pid order."""
    return sorted(p for p, (ppid, _) in proc_table().items() if ppid == pid)


def tree_cpu_seconds(roots: dict[str, int], self_name: str | None = "client") -> dict[str, float]:
    """CPU seconds used so far by each named process tree (live processes plus their reaped children).

    ``self_name``: also report this process itself (and the children it reaped) under that name.
    """
    table_ = proc_table()
    kids: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _) in table_.items():
        kids[ppid].append(pid)
    out = {}
    for name, root in roots.items():
        total, stack, seen = 0, [root], set()
        while stack:
            pid = stack.pop()
            if pid in seen or pid not in table_:
                continue
            seen.add(pid)
            total += table_[pid][1]
            stack.extend(kids[pid])
        out[name] = total / CLK_TCK
    if self_name:
        t = os.times()
        out[self_name] = t.user + t.system + t.children_user + t.children_system
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def memory_of(pid: int) -> dict[str, int]:
    """Resident memory of one process in KiB: VmRSS, RssAnon, RssFile, RssShmem, VmHWM and Pss."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                out[name] = int(value.split()[0])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    out["Pss"] = int(line.split()[1])
    except OSError:
        pass
    return out


# --- HTTP --------------------------------------------------------------------------------------


class Http:
    """One HTTP/1.1 connection to a base URL, kept alive where the server allows (when the server
    closes it, e.g. gunicorn's sync workers after each response, it is reopened for the next request)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        url = urlsplit(base_url)
        if url.hostname is None:
            raise ValueError(f"{base_url!r} names no host")
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # a kept-alive connection the server had closed: once more
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


# --- py-spy ------------------------------------------------------------------------------------


def py_spy() -> str:
    """The py-spy executable (the venv's first); SystemExit with the install hint when missing."""
    spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if spy is None:
        raise SystemExit("profiling needs py-spy: .venv/bin/pip install py-spy")
    return spy


def read_collapsed(path: Path) -> Iterator[tuple[list[str], int]]:
    """(frames outermost first, samples) per line of a py-spy ``--format raw`` file, without the
    "process ..." and "thread ..." entries py-spy puts first."""
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        yield [f for f in stack.split(";") if not f.startswith(("process ", "thread "))], int(count)
