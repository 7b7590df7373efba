"""A static web server (nginx, Debian's ``nginx-light``) for product images, on loopback.

The edge never serves images: pages point at ``IMAGE_BASE_URL``, a static web server of its own
(as in the talk). ``./dev demo`` serves its placeholder images with this, and the end-to-end
tests fetch the images a page references from it.

nginx runs in the foreground with a configuration of its own (written into ``workdir`` with its
pid file, error log and temporary directories), serving ``root`` read-only: GET and HEAD, no
directory listings, ``X-Content-Type-Options: nosniff``, a day of caching. As root its worker runs
as ``nobody``, which must be able to reach ``root`` (``./dev`` keeps the images under
``/var/lib/snipshop/<clone>-<hash>/images`` then, like PostgreSQL's data). ``content_type``
serves every file with one media type, whatever its name: the demo's placeholders are SVG files
under the names the catalog gives its images (``/m/b/mb01-blue-0.jpg``).

    python -m tools.staticserver ROOT --port P --workdir DIR [--content-type T]   (runs until stopped)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools.localservices import ServiceError, port_open, unreachable_ancestor, wait_port

WORKER_USER = "nobody"
#: The media types of image files by extension (nginx's ``types``).
TYPES = {
    "image/svg+xml": "svg svgz",
    "image/png": "png",
    "image/jpeg": "jpg jpeg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
}


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if not found:
        raise ServiceError("nginx not found: install the Debian package 'nginx-light' (./dev installs it)")
    return found


@dataclass
class StaticServer:
    root: Path
    port: int
    workdir: Path
    content_type: str | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.workdir / "nginx.conf"

    @property
    def log_path(self) -> Path:
        return self.workdir / "error.log"

    def config(self) -> str:
        as_root = os.geteuid() == 0
        if self.content_type:
            types = f"types {{ }}\n    default_type {self.content_type};"
        else:
            types = (
                "types {\n"
                + "".join(f"        {t} {exts};\n" for t, exts in TYPES.items())
                + "    }\n    default_type application/octet-stream;"
            )
        temp = self.workdir / "temp"
        return f"""# Written by tools/staticserver.py; serves {self.root} read-only.
{f"user {WORKER_USER} nogroup;" if as_root else ""}
worker_processes 1;
daemon off;
pid {self.workdir / "nginx.pid"};
error_log {self.log_path} warn;
events {{ worker_connections 256; }}
http {{
    {types}
    access_log off;
    server_tokens off;
    sendfile on;
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    server {{
        listen 127.0.0.1:{self.port};
        root {self.root};
        autoindex off;
        location / {{
            limit_except GET {{ deny all; }}
            try_files $uri =404;
            add_header Cache-Control "public, max-age=86400" always;
            add_header X-Content-Type-Options nosniff always;
        }}
    }}
}}
"""

    def command(self) -> list[str]:
        return [nginx_binary(), "-e", str(self.log_path), "-p", str(self.workdir), "-c", str(self.config_path)]

    def prepare(self) -> None:
        """Write the configuration; check the port is free and the root reachable by the worker."""
        if not self.root.is_dir():
            raise ServiceError(f"the image directory {self.root} does not exist")
        if port_open(self.port):
            raise ServiceError(
                f"port {self.port} is in use: stop what runs there or choose another port (./dev: IMAGE_PORT=...)"
            )
        if os.geteuid() == 0:
            blocked = unreachable_ancestor(self.root, WORKER_USER)
            if blocked is not None:
                raise ServiceError(
                    f"nginx's worker runs as {WORKER_USER!r} and cannot enter {blocked} on the way to "
                    f"{self.root}: serve a directory it can reach (./dev uses /var/lib/snipshop/...)"
                )
        (self.workdir / "temp").mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config(), encoding="utf-8")

    def start(self, timeout: float = 20.0) -> StaticServer:
        self.prepare()
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, timeout, "nginx")
        except RuntimeError as e:
            self.stop()
            log = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
            raise ServiceError(f"{e}; {self.log_path}:\n{log}") from None
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # nginx: fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def main(argv: list[str] | None = None) -> int:
    """Serve ROOT in the foreground (nginx replaces this process) until it is stopped."""
    parser = argparse.ArgumentParser(prog="python -m tools.staticserver", description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True, help="configuration, pid file, error log")
    parser.add_argument("--content-type", help="serve every file with this media type (e.g. image/svg+xml)")
    args = parser.parse_args(argv)
    server = StaticServer(args.root.resolve(), args.port, args.workdir.resolve(), args.content_type)
    try:
        server.prepare()
        command = server.command()
    except ServiceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    os.execv(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
