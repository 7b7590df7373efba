"""Start a real Elasticsearch 8.x node, or a 3-node cluster, on loopback for tests, CI and the demo.

Where the server comes from
---------------------------
The design note named the codelibs ``org.codelibs:elasticsearch-cluster-runner:8.14.1.0``. That
artifact is NOT on Maven Central: codelibs publish the runner (and their repackaged ES modules)
to Central only up to 7.10.2.0; 7.11 and later live in codelibs' own Maven repository, which this
machine (and CI) cannot reach. ``mvn dependency:get`` fails with "Could not find artifact".

What Maven Central does have is Elastic's own minimal distribution of the real server::

    org.elasticsearch.distribution.integ-test-zip:elasticsearch:8.14.1:zip   (88 MB)

It is the genuine Elasticsearch 8.14.1 (server jar, CLI launcher, ``bin/elasticsearch``) with the
modules ``transport-netty4``, ``x-pack-core``, ``x-pack-security`` and ``apm``, and no bundled JDK:
it runs on the machine's Java 17. ``tools/es-runner/pom.xml`` resolves it with
``mvn -q -B dependency:copy-dependencies``; :func:`ensure_distribution` unpacks it into a cache
directory (``SNIPSHOP_ES_CACHE`` if set; as root this clone's directory outside it,
``/var/lib/snipshop/<clone>-<hash>/elasticsearch`` - see "Running as root"; otherwise
``.cache/elasticsearch`` in the repo).

What this minimal distribution lacks (they are separate modules, not published to Central):
``analysis-common`` (language analyzers such as ``english``, the ``asciifolding``, ``stemmer``,
``edge_ngram``... filters; ``standard``, ``simple``, ``whitespace``, ``stop``, ``keyword``
analyzers and the ``lowercase`` filter do work), ``lang-painless`` (no scripts), ``reindex``
(no ``_reindex``/``_update_by_query``/``_delete_by_query``), ``mapper-extras`` (no
``scaled_float``, ``search_as_you_type``, ``rank_feature``), ``aggregations`` (the core
aggregations - terms, histogram, date_histogram, range, stats, composite, ... - are in the server
and work) and ``rest-root`` (``GET /`` and ``HEAD /`` answer 405, so the Python client's
``info()``/``ping()`` do not work against it; use ``cluster.health()``). Security is switched off
(``xpack.security.enabled: false``), so it speaks plain HTTP without credentials.

Language analysis comes from our own plugin instead: :func:`ensure_distribution` builds
``tools/es-analysis-plugin`` with Maven (cached by a hash of its sources) and installs it into the
cached ES_HOME, so every node has the ``english``/``german``/... analyzers and the
``asciifolding``, ``stemmer``, ``edge_ngram``, ``german_normalization``... filters (the list and
the build are in tools/es_plugin.py).

Running as root
---------------
Elasticsearch refuses to run as root ("can not run elasticsearch as root") and 8.x has no
property to allow it. As root, each node's JVM is therefore started as an unprivileged user,
``nobody`` by default (``SNIPSHOP_ES_USER`` overrides), via ``subprocess.Popen(user=, group=)``;
the node directories are chowned to it. Every ancestor of the cluster directory and of the
cache directory (ES_HOME) must be traversable by that user (``tempfile.mkdtemp`` dirs are 0700:
chmod them 0755). A clone may sit where that user cannot go (``/root/shop``, a ``mktemp -d``
directory), so as root the cache is not in the clone but in
``tools.localservices.service_dir()/elasticsearch`` (``/var/lib/snipshop/<clone name>-<hash of
its path>/``, created mode 0755): ES_HOME, its plugin and the Maven build of the plugin live
there, one per clone. :meth:`ElasticsearchCluster.start` checks the way before starting and
says which directory blocks it.

Layout, ports and processes
---------------------------
A cluster of N nodes is N separate JVMs (each ``bin/elasticsearch`` is a small CLI JVM that
spawns the server JVM), each in its own process group, joined into one cluster by
``discovery.seed_hosts`` + ``cluster.initial_master_nodes`` (a single node uses
``discovery.type: single-node``). Node i (1-based) serves HTTP on ``base_http_port + i`` and
transport on ``base_http_port + 100 + i`` (the codelibs runner's convention: base 9200 gives
9201.. and 9301..). Because every node is its own process group, :meth:`stop_node` kills one node
while the others keep serving, and :meth:`start_node` brings it back with its data.

``DIR/node-i/`` holds ``config/`` (a copy of the distribution's, with our ``elasticsearch.yml``
and a ``jvm.options`` whose log/heap-dump paths are absolute - the stock one writes to
``logs/gc.log`` relative to ES_HOME, which the unprivileged user cannot write), ``data/``,
``logs/``, ``tmp/`` and ``console.log`` (the node's stdout/stderr: read it when start fails).
``DIR/cluster.json`` records ports and process ids for ``down``.

Settings: ``network.host: 127.0.0.1``, security off, disk watermarks off
(``cluster.routing.allocation.disk.threshold_enabled: false``), heap ``-Xms/-Xmx`` 512 MB per
node by default. Bootstrap checks (file descriptors, vm.max_map_count) only warn, since the
nodes bind to loopback (development mode).

Stopping: SIGTERM to the node's process group (clean shutdown in < 1 s), SIGKILL after 30 s.
Started from Python (tests), each node also gets PR_SET_PDEATHSIG, so a test run killed outright
does not leave 0.8 GB JVMs behind; ``up`` starts them detached instead.

Measured on the 2-core/24 GB machine: resolving + unpacking once ~10 s cold (Maven, 88 MB; 6 s
with the zip already in ~/.m2) plus 5-9 s building the analysis plugin (18 s with an empty
~/.m2), ~1 ms afterwards; one node yellow in 7-18 s (typically ~14 s);
three nodes ready in 23-31 s. Memory: ~0.8 GB RSS per node with the default 512 MB heap (server
JVM ~0.72 GB, heap pre-touched; the ``bin/elasticsearch`` CLI JVM ~0.1 GB), ~2.4 GB for three.
Disk: ~100 MB unpacked in the cache plus the 85 MB zip in ~/.m2.

Python client: ``elasticsearch>=8.14,<8.15`` (8.14.0 on PyPI; no 8.14.1 exists); it works
against this server except ``info()``/``ping()`` (see above).

CLI
---
    python -m tools.elasticsearch up DIR --port 9200 [--nodes 3] [--heap-mb 512]
        -> starts detached, prints ``export ELASTICSEARCH_URL=http://127.0.0.1:9201``
    python -m tools.elasticsearch down DIR
    python -m tools.elasticsearch stop-node DIR --node 2     (start-node DIR --node 2)
    python -m tools.elasticsearch status DIR
    python -m tools.elasticsearch fetch                     (only resolve/unpack the server + plugin)
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from tools import es_plugin
from tools.localservices import reachable_dir, service_dir, unreachable_ancestor

REPO = Path(__file__).resolve().parent.parent
POM = REPO / "tools" / "es-runner" / "pom.xml"
ES_VERSION = "8.14.1"
MAVEN_COORDINATES = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
DEFAULT_USER = os.environ.get("SNIPSHOP_ES_USER", "nobody")


def default_cache() -> Path:
    """Where the server is unpacked: somewhere the user Elasticsearch runs as can reach."""
    if os.environ.get("SNIPSHOP_ES_CACHE"):
        return Path(os.environ["SNIPSHOP_ES_CACHE"])
    if os.geteuid() == 0:  # the nodes run as DEFAULT_USER, who may not reach the clone
        return service_dir(REPO) / "elasticsearch"
    return REPO / ".cache" / "elasticsearch"


DEFAULT_CACHE = default_cache()
TRANSPORT_OFFSET = 100
_MARKER = ".snipshop-unpacked"


class ElasticsearchError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# Resolving the server with Maven


def ensure_distribution(cache_dir: Path | str = DEFAULT_CACHE, version: str = ES_VERSION) -> Path:
    """Resolve Elasticsearch ``version`` from Maven Central, unpack it and install our analysis
    plugin into it (tools/es_plugin.py); return its ES_HOME.

    Idempotent and cheap once done (marker files are checked, the plugin sources hashed);
    concurrent callers serialise on lock files. Maven uses the default ``~/.m2`` repository.
    """
    home = _ensure_unpacked(Path(cache_dir).resolve(), version)
    try:
        es_plugin.ensure_installed(home, cache_dir, version)
    except es_plugin.PluginBuildError as e:
        raise ElasticsearchError(str(e)) from None
    return home


def _ensure_unpacked(cache_dir: Path, version: str) -> Path:
    home = cache_dir / f"elasticsearch-{version}"
    if (home / _MARKER).exists():
        return home
    reachable_dir(cache_dir)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (home / _MARKER).exists():
            return home
        download = cache_dir / "download"
        zip_path = download / f"elasticsearch-{version}.zip"
        if not zip_path.exists():
            mvn = shutil.which("mvn")
            if not mvn:
                raise ElasticsearchError("Maven (mvn) not found: apt-get install maven")
            cmd = [
                mvn,
                "-q",
                "-B",
                "-f",
                str(POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={download}",
                f"-Des.version={version}",
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0 or not zip_path.exists():
                raise ElasticsearchError(
                    f"Maven could not resolve {MAVEN_COORDINATES.format(version=version)} "
                    f"(exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
                )
        staging = cache_dir / f".unpack-{version}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        _unzip(zip_path, staging)
        inner = staging / f"elasticsearch-{version}"
        if not (inner / "bin" / "elasticsearch").exists():
            raise ElasticsearchError(f"{zip_path} does not contain elasticsearch-{version}/bin/elasticsearch")
        shutil.rmtree(home, ignore_errors=True)
        inner.rename(home)
        shutil.rmtree(staging, ignore_errors=True)
        (home / _MARKER).write_text(MAVEN_COORDINATES.format(version=version) + "\n")
        zip_path.unlink()  # ~/.m2 keeps the Maven copy
        for d in [cache_dir, home]:
            d.chmod(0o755)
    return home


# The brief asked for ensure_runner(); the codelibs runner is not on Maven Central (see above).
ensure_runner = ensure_distribution


def _unzip(zip_path: Path, dest: Path) -> None:
    """Extract keeping the Unix permission bits (zipfile drops them)."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = dest / info.filename
            zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                target.chmod(mode)
            elif info.is_dir():
                target.chmod(0o755)


def java_home() -> str:
    for var in ("ES_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(var) and Path(os.environ[var], "bin", "java").exists():
            return os.environ[var]
    java = shutil.which("java")
    if not java:
        raise ElasticsearchError(
            "java not found: Elasticsearch 8 needs Java 17+ (apt-get install openjdk-17-jre-headless)"
        )
    return str(Path(java).resolve().parent.parent)


# ---------------------------------------------------------------------------------------------
# Ports and processes


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ports_for(base_http_port: int, nodes: int) -> list[int]:
    return [base_http_port + i for i in range(1, nodes + 1)] + [
        base_http_port + TRANSPORT_OFFSET + i for i in range(1, nodes + 1)
    ]


def free_base_port(nodes: int = 1, attempts: int = 50) -> int:
    """A base port P such that P+1..P+N (HTTP) and P+101..P+100+N (transport) are free."""
    for _ in range(attempts):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            candidate = s.getsockname()[1] - 1
        if candidate + TRANSPORT_OFFSET + nodes < 65535 and all(map(_port_free, ports_for(candidate, nodes))):
            return candidate
    raise ElasticsearchError("found no free range of ports")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A group whose members are all zombies still "exists": look at the states.
    return any(stat["pgrp"] == pgid and stat["state"] != "Z" for stat in _proc_stats())


def _proc_stats():
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            raw = (p / "stat").read_text()
            rest = raw[raw.rindex(")") + 2 :].split()
            rss_pages = int((p / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        yield {
            "pid": int(p.name),
            "state": rest[0],
            "pgrp": int(rest[2]),
            "rss": rss_pages * os.sysconf("SC_PAGE_SIZE"),
        }


def _kill_group(pgid: int, timeout: float = 30.0) -> None:
    """SIGTERM the process group (Elasticsearch shuts down cleanly on it), SIGKILL after timeout."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _group_alive(pgid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.1)


def _pdeathsig_setter():
    """A preexec_fn that asks the kernel to SIGTERM the child when its parent (thread) dies.

    libc is loaded here, in the parent: importing or loading in the forked child fails."""
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    PR_SET_PDEATHSIG = 1

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)

    return preexec


def _http_json(url: str, timeout: float = 5.0) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body or b"{}")
        except ValueError:
            return e.code, {"error": body.decode(errors="replace")}


def _tail(path: Path, lines: int = 40) -> str:
    """The ERROR lines of a node's console log (the cause), then its last lines."""
    try:
        all_lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no {path})"
    errors = [line[:600] for line in all_lines if "][ERROR]" in line or line.startswith("ERROR:")][:5]
    return "\n".join([*errors, "...", *all_lines[-lines:]] if errors else all_lines[-lines:])


# ---------------------------------------------------------------------------------------------
# The cluster


class ElasticsearchCluster:
    """N real Elasticsearch nodes, one JVM (process group) each, on 127.0.0.1.

    ``with ElasticsearchCluster(dir, port, nodes=3) as es:`` starts and stops it; ``.url`` is node
    1's HTTP endpoint, ``.node_urls`` all of them. With ``die_with_parent`` (the default) the nodes
    are SIGTERMed when the *thread* that started them exits: start clusters from the main thread
    (or one that outlives them), or pass ``die_with_parent=False`` and call ``stop()``.
    """

    def __init__(
        self,
        base_dir: Path | str,
        base_http_port: int,
        nodes: int = 1,
        *,
        heap_mb: int = 512,
        cluster_name: str = "snipshop-es",
        cache_dir: Path | str = DEFAULT_CACHE,
        version: str = ES_VERSION,
        es_home: Path | str | None = None,
        user: str | None = None,
        extra_settings: dict | None = None,
        die_with_parent: bool = True,
    ):
        if nodes < 1:
            raise ValueError("nodes must be >= 1")
        self.base_dir = Path(base_dir).resolve()
        self.base_http_port = base_http_port
        self.nodes = nodes
        self.heap_mb = heap_mb
        self.cluster_name = cluster_name
        self.cache_dir = Path(cache_dir)
        self.version = version
        self.es_home = Path(es_home) if es_home else None
        self.user = user if user is not None else (DEFAULT_USER if os.geteuid() == 0 else None)
        self.extra_settings = extra_settings or {}
        # Tests: if the Python process is killed outright, its nodes go too (PR_SET_PDEATHSIG on
        # the CLI JVM; the server JVM exits when its CLI parent does). ``up`` turns this off.
        self.die_with_parent = die_with_parent
        self.pgids: dict[int, int] = {}
        self._procs: dict[int, subprocess.Popen] = {}
        self.startup_seconds: float | None = None

    # -- addresses
    @property
    def url(self) -> str:
        return self.node_url(1)

    @property
    def node_urls(self) -> list[str]:
        return [self.node_url(i) for i in range(1, self.nodes + 1)]

    def node_url(self, node: int) -> str:
        return f"http://127.0.0.1:{self.http_port(node)}"

    def http_port(self, node: int) -> int:
        return self.base_http_port + node

    def transport_port(self, node: int) -> int:
        return self.base_http_port + TRANSPORT_OFFSET + node

    def node_dir(self, node: int) -> Path:
        return self.base_dir / f"node-{node}"

    def node_name(self, node: int) -> str:
        return f"node-{node}"

    # -- lifecycle
    def __enter__(self) -> ElasticsearchCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 180.0) -> ElasticsearchCluster:
        t0 = time.monotonic()
        self.es_home = self.es_home or ensure_distribution(self.cache_dir, self.version)
        busy = [p for p in ports_for(self.base_http_port, self.nodes) if not _port_free(p)]
        if busy:
            raise ElasticsearchError(f"ports already in use: {busy} (another Elasticsearch in {self.base_dir}?)")
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.base_dir.chmod(0o755)
        self._check_access()
        try:
            for node in range(1, self.nodes + 1):
                self._launch(node)
            self._write_state()
            self.wait_ready(timeout - (time.monotonic() - t0))
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self) -> None:
        for node in list(self.pgids):
            self.stop_node(node)
        with contextlib.suppress(FileNotFoundError):
            (self.base_dir / "cluster.json").unlink()

    def stop_node(self, node: int, timeout: float = 30.0) -> None:
        """Stop one node (SIGTERM to its process group, SIGKILL after timeout); others keep running."""
        pgid = self.pgids.pop(node, None)
        if pgid is not None:
            _kill_group(pgid, timeout)
        proc = self._procs.pop(node, None)
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        if (self.base_dir / "cluster.json").exists():
            self._write_state()

    def kill_node(self, node: int) -> None:
        """Hard-kill one node (SIGKILL), like a crash."""
        pgid = self.pgids.get(node)
        if pgid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        self.stop_node(node, timeout=10)

    def start_node(self, node: int, timeout: float = 120.0) -> None:
        """(Re)start one node of this cluster with its existing data and wait until it has joined."""
        if node in self.pgids:
            raise ElasticsearchError(f"node {node} is already running")
        self._launch(node)
        self._write_state()
        self.wait_ready(timeout, nodes=len(self.pgids), via=node)

    def wait_ready(self, timeout: float, nodes: int | None = None, via: int | None = None) -> None:
        """Wait until the cluster is yellow with ``nodes`` nodes, answering on each running node."""
        nodes = nodes or self.nodes
        deadline = time.monotonic() + max(timeout, 1.0)
        pending = sorted(self.pgids) if via is None else [via]
        last = "no answer yet"
        while True:
            for node in list(self.pgids):
                if not _group_alive(self.pgids[node]):
                    raise ElasticsearchError(
                        f"Elasticsearch node {node} exited during startup; last lines of "
                        f"{self.node_dir(node) / 'console.log'}:\n{_tail(self.node_dir(node) / 'console.log')}"
                    )
            still = []
            for node in pending:
                try:
                    status, body = _http_json(
                        f"{self.node_url(node)}/_cluster/health?wait_for_status=yellow"
                        f"&wait_for_nodes={nodes}&timeout=1s",
                        timeout=5,
                    )
                except (OSError, ValueError) as e:
                    still.append(node)
                    last = f"node {node}: {e}"
                    continue
                if status != 200 or body.get("timed_out"):
                    still.append(node)
                    last = f"node {node}: HTTP {status} {json.dumps(body)[:300]}"
            pending = still
            if not pending:
                return
            if time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- {self.node_dir(n) / 'console.log'}:\n{_tail(self.node_dir(n) / 'console.log', 25)}"
                    for n in sorted(self.pgids)
                )
                raise ElasticsearchError(f"Elasticsearch cluster not ready within {timeout:.0f}s ({last})\n{logs}")
            time.sleep(0.5)

    def rss_bytes(self) -> int:
        """Resident memory of all processes of the running nodes (CLI and server JVMs)."""
        groups = set(self.pgids.values())
        return sum(s["rss"] for s in _proc_stats() if s["pgrp"] in groups)

    # -- internals
    @property
    def _home(self) -> Path:
        """The distribution the nodes run (:meth:`start` finds or fetches it)."""
        if self.es_home is None:
            raise ElasticsearchError("no Elasticsearch distribution yet: start() finds or fetches it")
        return self.es_home

    def _ids(self) -> tuple[int, int] | None:
        """The uid and gid the nodes run as, or None to run them as this process."""
        if not self.user:
            return None
        try:
            pw = pwd.getpwnam(self.user)
        except KeyError:
            raise ElasticsearchError(f"user {self.user!r} does not exist (set SNIPSHOP_ES_USER)") from None
        return pw.pw_uid, pw.pw_gid

    def _check_access(self) -> None:
        user = self.user
        if self._ids() is None or not user:
            return
        for target, remedy in (
            (self._home, "set SNIPSHOP_ES_CACHE to a directory it can reach"),
            (self.base_dir, "use another directory"),
        ):
            blocked = unreachable_ancestor(target, user)
            if blocked is not None:
                raise ElasticsearchError(
                    f"Elasticsearch runs as {self.user!r} (it refuses to run as root), who cannot enter "
                    f"{blocked} on the way to {target}: {remedy}, or chmod o+x {blocked}"
                )

    def _settings(self, node: int) -> dict:
        d = self.node_dir(node)
        s = {
            "cluster.name": self.cluster_name,
            "node.name": self.node_name(node),
            "path.data": str(d / "data"),
            "path.logs": str(d / "logs"),
            "network.host": "127.0.0.1",
            "http.port": self.http_port(node),
            "transport.port": self.transport_port(node),
            "xpack.security.enabled": False,
            "cluster.routing.allocation.disk.threshold_enabled": False,
        }
        if self.nodes == 1:
            s["discovery.type"] = "single-node"
        else:
            s["discovery.seed_hosts"] = [f"127.0.0.1:{self.transport_port(n)}" for n in range(1, self.nodes + 1)]
            s["cluster.initial_master_nodes"] = [self.node_name(n) for n in range(1, self.nodes + 1)]
        s.update(self.extra_settings)
        return s

    def _write_config(self, node: int) -> None:
        d = self.node_dir(node)
        conf = d / "config"
        if conf.exists():
            shutil.rmtree(conf)
        shutil.copytree(self._home / "config", conf)
        for sub in ("data", "logs", "tmp"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        # JSON is valid YAML: no quoting surprises.
        (conf / "elasticsearch.yml").write_text(
            "".join(f"{k}: {json.dumps(v)}\n" for k, v in self._settings(node).items())
        )
        logs = d / "logs"
        (conf / "jvm.options").write_text(
            "\n".join(
                [
                    "-XX:+UseG1GC",
                    "-Djava.io.tmpdir=${ES_TMPDIR}",
                    "20-:--add-modules=jdk.incubator.vector",
                    "-XX:+HeapDumpOnOutOfMemoryError",
                    "-XX:+ExitOnOutOfMemoryError",
                    f"-XX:HeapDumpPath={logs}",
                    f"-XX:ErrorFile={logs}/hs_err_pid%p.log",
                    f"-Xlog:gc*,gc+age=trace,safepoint:file={logs}/gc.log:utctime,level,pid,tags:filecount=2,filesize=16m",
                    "",
                ]
            )
        )
        (conf / "jvm.options.d").mkdir(exist_ok=True)
        (conf / "jvm.options.d" / "heap.options").write_text(f"-Xms{self.heap_mb}m\n-Xmx{self.heap_mb}m\n")
        ids = self._ids()
        if ids is not None:
            uid, gid = ids
            for root, dirs, files in os.walk(d):
                os.chown(root, uid, gid)
                for name in dirs + files:
                    os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)
            d.chmod(0o755)

    def _launch(self, node: int) -> None:
        self._write_config(node)
        d = self.node_dir(node)
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("JAVA_HOME", "JAVA_TOOL_OPTIONS", "JAVA_OPTS", "ES_JAVA_OPTS", "CLI_JAVA_OPTS")
        }
        env.update(ES_JAVA_HOME=java_home(), ES_PATH_CONF=str(d / "config"), ES_TMPDIR=str(d / "tmp"), HOME=str(d))
        ids = self._ids()
        kwargs: dict[str, Any] = {}
        if ids is not None:
            uid, gid = ids
            kwargs = {"user": uid, "group": gid, "extra_groups": []}
        if self.die_with_parent and sys.platform == "linux":
            kwargs["preexec_fn"] = _pdeathsig_setter()  # runs after the uid switch, so it sticks
        with open(d / "console.log", "ab") as log:
            proc = subprocess.Popen(
                [str(self._home / "bin" / "elasticsearch")],
                cwd=d,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kwargs,
            )
        self._procs[node] = proc
        self.pgids[node] = proc.pid

    def _write_state(self) -> None:
        state = {
            "base_http_port": self.base_http_port,
            "nodes": self.nodes,
            "url": self.url,
            "node_urls": self.node_urls,
            "version": self.version,
            "es_home": str(self.es_home),
            "heap_mb": self.heap_mb,
            "cluster_name": self.cluster_name,
            "user": self.user,
            "pgids": {str(k): v for k, v in self.pgids.items()},
        }
        (self.base_dir / "cluster.json").write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def from_state(cls, base_dir: Path | str) -> ElasticsearchCluster:
        """Re-attach to a cluster started by ``up`` (for ``down``, ``stop-node``, ``status``)."""
        base_dir = Path(base_dir).resolve()
        try:
            state = json.loads((base_dir / "cluster.json").read_text())
        except FileNotFoundError:
            raise ElasticsearchError(f"no Elasticsearch started in {base_dir} (no cluster.json)") from None
        c = cls(
            base_dir,
            state["base_http_port"],
            state["nodes"],
            heap_mb=state["heap_mb"],
            cluster_name=state["cluster_name"],
            version=state["version"],
            es_home=state["es_home"],
            user=state["user"],
            die_with_parent=False,
        )
        for node, pgid in state["pgids"].items():
            # Only groups still running Elasticsearch from this directory (pids get reused).
            try:
                cmdline = Path(f"/proc/{pgid}/cmdline").read_bytes()
            except OSError:
                continue
            if str(c.node_dir(int(node))).encode() in cmdline or str(c.es_home).encode() in cmdline:
                c.pgids[int(node)] = pgid
        return c


# ---------------------------------------------------------------------------------------------
# CLI


def _cmd_up(args) -> int:
    c = ElasticsearchCluster(
        args.dir, args.port, args.nodes, heap_mb=args.heap_mb, cache_dir=args.cache, die_with_parent=False
    )
    if (c.base_dir / "cluster.json").exists() and ElasticsearchCluster.from_state(c.base_dir).pgids:
        print(f"Elasticsearch already running in {c.base_dir}: run down first", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    c.es_home = ensure_distribution(args.cache)
    fetched = time.monotonic() - t0
    c.start(timeout=args.timeout)
    print(
        f"# Elasticsearch {c.version}: {c.nodes} node(s) up in {c.startup_seconds:.1f}s "
        f"(+{fetched:.1f}s resolving), RSS {c.rss_bytes() / 2**20:.0f} MiB; nodes: {' '.join(c.node_urls)}",
        file=sys.stderr,
    )
    print(f"export ELASTICSEARCH_URL={c.url}")
    return 0


def _cmd_down(args) -> int:
    c = ElasticsearchCluster.from_state(args.dir)
    c.stop()
    print(f"# stopped Elasticsearch in {c.base_dir}", file=sys.stderr)
    return 0


def _cmd_stop_node(args) -> int:
    c = ElasticsearchCluster.from_state(args.dir)
    if args.node not in c.pgids:
        print(f"node {args.node} is not running", file=sys.stderr)
        return 1
    c.stop_node(args.node)
    return 0


def _cmd_start_node(args) -> int:
    c = ElasticsearchCluster.from_state(args.dir)
    c.start_node(args.node, timeout=args.timeout)
    return 0


def _cmd_status(args) -> int:
    c = ElasticsearchCluster.from_state(args.dir)
    print(json.dumps({"url": c.url, "running_nodes": sorted(c.pgids), "rss_mib": round(c.rss_bytes() / 2**20)}))
    return 0 if c.pgids else 1


def _cmd_fetch(args) -> int:
    print(ensure_distribution(args.cache))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.elasticsearch", description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the server is unpacked")
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start detached and print export ELASTICSEARCH_URL=...")
    up.add_argument("dir", type=Path)
    up.add_argument("--port", type=int, default=9200, help="base port: HTTP on PORT+i, transport on PORT+100+i")
    up.add_argument("--nodes", type=int, default=1)
    up.add_argument("--heap-mb", type=int, default=512)
    up.add_argument("--timeout", type=float, default=180)
    up.set_defaults(func=_cmd_up)
    down = sub.add_parser("down", help="stop everything started in DIR")
    down.add_argument("dir", type=Path)
    down.set_defaults(func=_cmd_down)
    for name, func in (("stop-node", _cmd_stop_node), ("start-node", _cmd_start_node)):
        p = sub.add_parser(name)
        p.add_argument("dir", type=Path)
        p.add_argument("--node", type=int, required=True)
        p.add_argument("--timeout", type=float, default=120)
        p.set_defaults(func=func)
    st = sub.add_parser("status")
    st.add_argument("dir", type=Path)
    st.set_defaults(func=_cmd_status)
    fetch = sub.add_parser("fetch", help="only resolve and unpack the server, build and install the plugin")
    fetch.set_defaults(func=_cmd_fetch)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except ElasticsearchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
