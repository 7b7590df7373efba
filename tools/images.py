"""Build the shop's container images: the app (Dockerfile), the PHP front end
(frontend_php_compat/Dockerfile) and PostgreSQL, Redis, Elasticsearch (docker/*/Dockerfile), for
./dev and the compose test.

Where no image registry is reachable, nothing can be pulled, so the base every Dockerfile names,
``debian:bookworm-slim``, is made here: ``debootstrap --variant=minbase bookworm`` from Debian's
mirror, trimmed as the official slim image is (no documentation, locales or package lists), then
``docker import``. The tarball is kept in ``STATE/docker/`` so a second machine state, or the
next run, imports it in seconds. Where a registry is reachable the same Dockerfiles pull the
official base instead (``docker pull`` is tried first).

The Elasticsearch image takes the distribution the project already runs (tools/elasticsearch.py:
Elastic's server from Maven Central with the project's analysis plugin) into its build context.

Builds use the classic builder (``DOCKER_BUILDKIT=0``): it needs no buildx plugin, and its
output says for every step whether it came from the cache, which the test reads to show that a
change to the code alone does not reinstall the dependencies.

    python -m tools.images daemon              (start dockerd if it is not running; as root)
    python -m tools.images base                (make or pull debian:bookworm-slim)
    python -m tools.images build [--only app|php|postgres|redis|elasticsearch]  (prints timings, sizes)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASE_IMAGE = "debian:bookworm-slim"
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
#: The image names compose.yaml uses by default (.env.example).
APP_IMAGE = "snipshop"
PHP_IMAGE = "snipshop-php"
PHP_DOCKERFILE = REPO / "frontend_php_compat" / "Dockerfile"
SERVICE_IMAGES = {
    "postgres": "snipshop-postgres:15",
    "redis": "snipshop-redis:7",
    "elasticsearch": "snipshop-elasticsearch:8.14.1",
}
#: Every image ``build`` makes, by the name ``--only`` takes.
IMAGES = ["app", "php", *SERVICE_IMAGES]
#: Where a site's own certificate authorities live (Debian): passed to the app's build stage.
LOCAL_CAS = Path("/usr/local/share/ca-certificates")
#: Removed from the debootstrapped tree, as the official slim image leaves them out.
TRIM = ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt", "var/lib/apt/lists"]
DPKG_SLIM = """\
# As the official slim image: no documentation or translations from later installs.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""
APT_CLEAN = """\
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
"""
SOURCES = """\
deb {mirror} bookworm main
deb {mirror} bookworm-updates main
deb {security} bookworm-security main
"""


class ImageError(RuntimeError):
    """An image could not be made; the message says why."""


@dataclass
class Built:
    image: str
    seconds: float
    output: str

    def cached_steps(self) -> int:
        return self.output.count("Using cache")


def docker(*args: str, capture: bool = True, timeout: float | None = None, env: dict | None = None):
    return subprocess.run(
        ["docker", *args], capture_output=capture, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL
    )


def daemon_running() -> bool:
    try:
        return docker("info", "--format", "{{.ServerVersion}}", timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_daemon(state: Path, timeout: float = 60.0) -> None:
    """Start dockerd (detached, logging to STATE/dockerd.log) unless a daemon answers."""
    if daemon_running():
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise ImageError("no Docker daemon answers and dockerd is not installed (apt-get install docker.io)")
    if os.geteuid() != 0:
        raise ImageError("no Docker daemon answers; start it (as root: dockerd, or systemctl start docker)")
    state.mkdir(parents=True, exist_ok=True)
    log = state / "dockerd.log"
    with open(log, "ab") as out:
        subprocess.Popen(
            [dockerd], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon_running():
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-2000:]
    raise ImageError(f"dockerd did not answer within {timeout:.0f} s; the end of {log}:\n{tail}")


def image_exists(name: str) -> bool:
    return docker("image", "inspect", name).returncode == 0


def ensure_base(state: Path) -> str:
    """``debian:bookworm-slim``: present, pulled, or made with debootstrap (cached tarball)."""
    if image_exists(BASE_IMAGE):
        return "present"
    try:
        if docker("pull", "-q", BASE_IMAGE, timeout=120).returncode == 0:
            return "pulled"
    except subprocess.TimeoutExpired:
        pass
    tarball = state / "docker" / "debian-bookworm-minbase.tar"
    made = "imported the cached debootstrap tarball"
    if not tarball.exists():
        _debootstrap(tarball)
        made = "made with debootstrap"
    with open(tarball, "rb") as data:
        proc = subprocess.run(["docker", "import", "-", BASE_IMAGE], stdin=data, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ImageError(f"docker import of {tarball} failed: {proc.stderr.strip()}")
    return made


def _debootstrap(tarball: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise ImageError("no base image and debootstrap is not installed (apt-get install debootstrap)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="snipshop-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        proc = subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(root), DEBIAN_MIRROR],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise ImageError(f"debootstrap from {DEBIAN_MIRROR} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
        for sub in TRIM:
            target = root / sub
            if target.exists():
                shutil.rmtree(target)
                target.mkdir(parents=True)
        (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
        (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
        (root / "etc/dpkg/dpkg.cfg.d/docker-slim").write_text(DPKG_SLIM)
        (root / "etc/apt/apt.conf.d/docker-clean").write_text(APT_CLEAN)
        security = DEBIAN_MIRROR.rstrip("/") + "-security"
        (root / "etc/apt/sources.list").write_text(SOURCES.format(mirror=DEBIAN_MIRROR, security=security))
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)


def revision() -> str:
    """The git commit of the working tree, ``-dirty`` when it has uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True)
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _build(tags: list[str], context: Path, args: dict[str, str], dockerfile: Path | None = None) -> Built:
    cmd = ["build", "--network", "host"]
    for key, value in args.items():
        cmd += ["--build-arg", f"{key}={value}"]
    for tag in tags:
        cmd += ["--tag", tag]
    if dockerfile is not None:
        cmd += ["--file", str(dockerfile)]
    cmd.append(str(context))
    started = time.monotonic()
    proc = docker(*cmd, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise ImageError(f"building {tags[0]} failed:\n{output[-4000:]}")
    return Built(tags[0], time.monotonic() - started, output)


def local_cas() -> str:
    return "".join(p.read_text() for p in sorted(LOCAL_CAS.glob("*.crt"))) if LOCAL_CAS.is_dir() else ""


def build_app(rev: str | None = None) -> Built:
    rev = rev or revision()
    return _build([f"{APP_IMAGE}:{rev}", f"{APP_IMAGE}:latest"], REPO, {"REVISION": rev, "LOCAL_CA_CERTS": local_cas()})


def build_php(rev: str | None = None) -> Built:
    """The PHP front end's image, from the repository's root (it takes search/ and web/ too)."""
    rev = rev or revision()
    return _build([f"{PHP_IMAGE}:{rev}", f"{PHP_IMAGE}:latest"], REPO, {"REVISION": rev}, PHP_DOCKERFILE)


def build_service(name: str) -> Built:
    context = REPO / "docker" / name
    if name != "elasticsearch":
        return _build([SERVICE_IMAGES[name]], context, {})
    from tools.elasticsearch import ensure_distribution

    home = ensure_distribution()
    with tempfile.TemporaryDirectory(prefix="snipshop-es-image-") as tmp:
        staged = Path(tmp)
        for item in context.iterdir():
            shutil.copy2(item, staged / item.name)
        shutil.copytree(home, staged / "elasticsearch", symlinks=True)
        return _build([SERVICE_IMAGES[name]], staged, {})


def size_mb(image: str) -> float:
    proc = docker("image", "inspect", "--format", "{{.Size}}", image)
    return int(proc.stdout.strip()) / 1e6 if proc.returncode == 0 else float("nan")


def build_all(state: Path, only: list[str] | None = None, rev: str | None = None) -> dict[str, Built]:
    """Start the daemon if needed, make the base, build the images (all, or ``only``)."""
    ensure_daemon(state)
    ensure_base(state)
    names = only or IMAGES
    rev = rev or revision()  # once: the app and the PHP front end carry the same revision
    builders = {"app": build_app, "php": build_php}
    return {name: builders[name](rev) if name in builders else build_service(name) for name in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.images", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["daemon", "base", "build"])
    parser.add_argument("--state", type=Path, default=Path(os.environ.get("SNIPSHOP_STATE_DIR", REPO / ".state")))
    parser.add_argument("--only", action="append", choices=IMAGES)
    args = parser.parse_args(argv)
    try:
        ensure_daemon(args.state)
        if args.command == "base":
            started = time.monotonic()
            print(f"{BASE_IMAGE}: {ensure_base(args.state)} in {time.monotonic() - started:.1f} s")
        elif args.command == "build":
            started = time.monotonic()
            print(f"{BASE_IMAGE}: {ensure_base(args.state)} in {time.monotonic() - started:.1f} s")
            for name, built in build_all(args.state, args.only).items():
                print(f"{built.image}: built in {built.seconds:.1f} s, {size_mb(built.image):.0f} MB ({name})")
    except ImageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
