"""The PHP front end served for real: php-fpm behind nginx on loopback, in a working directory.

php-fpm (Debian's ``php-fpm``) runs a fixed pool of workers on a unix socket; nginx (Debian's
``nginx-light``) listens on ``127.0.0.1:PORT`` and hands every request to one PHP script,
``frontend_php_compat/public/index.php`` unless told otherwise. Their configurations come from
the templates in ``frontend_php_compat/conf/``, filled and written into ``workdir`` together with
the pid files, logs, the socket and nginx's temporary directories: nothing is written elsewhere,
no privileged port is used, and several front ends can run side by side.

The workers get the environment this process is given (``clear_env = no``): the same variables
as the edge (REDIS_URL, ELASTICSEARCH_URL, SHOP_LOCALES, ...). As root both servers keep their
workers as root (php-fpm with ``--allow-to-run-as-root``): the PHP workers read the clone, which
may be private (``/root/shop``), and nginx's workers must reach php-fpm's socket. They listen on
loopback only.

    python -m tools.php_frontend --port P --workdir DIR [--workers N] [--script FILE] [--dev]

runs until stopped (Ctrl-C or SIGTERM stop both servers). ``./dev demo``, the parity tests and
``bench/php.py`` use :class:`PhpFrontend`.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tools.localservices import ServiceError, port_open
from tools.processes import REPO
from tools.staticserver import nginx_binary

CONF = REPO / "frontend_php_compat" / "conf"
SCRIPT = REPO / "frontend_php_compat" / "public" / "index.php"
#: nginx serves /static/ (the stylesheet) from here, as the edge serves it from web/edge/static.
STATIC_ROOT = REPO / "web" / "edge"
#: A unix socket's path is at most 107 bytes (sun_path).
MAX_SOCKET_PATH = 107
PLACEHOLDER = re.compile(r"@[A-Z_]+@")
#: A revision nginx's configuration can hold as it is (a git commit, a tag).
SAFE_REVISION = re.compile(r"[A-Za-z0-9._:+-]{1,128}")


def php_fpm_binary() -> str:
    found = shutil.which("php-fpm") or next(iter(sorted(glob.glob("/usr/sbin/php-fpm*"), reverse=True)), None)
    if not found:
        raise ServiceError("php-fpm not found: install the Debian package 'php-fpm' (./dev installs it)")
    return found


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with every ``@NAME@`` replaced; a placeholder left over is an error."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    left = PLACEHOLDER.findall(template)
    if left:
        raise ValueError(f"no value for {', '.join(sorted(set(left)))}")
    return template


@dataclass
class PhpFrontend:
    port: int
    workdir: Path
    script: Path = SCRIPT
    workers: int = 2
    env: dict[str, str] | None = None
    #: opcache checks the files for changes on every request (for editing the code while it runs).
    dev: bool = False
    processes: list[subprocess.Popen] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_path(self) -> Path:
        return self.workdir / "php-fpm.sock"

    def values(self) -> dict[str, str]:
        return {
            "WORKDIR": str(self.workdir),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WORKERS": str(self.workers),
            "SCRIPT": str(self.script),
            "SCRIPT_NAME": self.script.name,
            "DOCROOT": str(self.script.parent),
            "STATIC_ROOT": str(STATIC_ROOT),
            "VALIDATE_TIMESTAMPS": "1" if self.dev else "0",
            "USER": "user root root;" if os.geteuid() == 0 else "",
            "REVISION": self.revision(),
            "NGINX_LOG": str(self.workdir / "nginx-error.log"),
            "FPM_LOG": str(self.workdir / "php-fpm.log"),
        }

    def revision(self) -> str:
        """SNIPSHOP_REVISION of the servers' environment, for the headers nginx adds itself."""
        revision = (os.environ if self.env is None else self.env).get("SNIPSHOP_REVISION") or "unknown"
        if not SAFE_REVISION.fullmatch(revision):
            raise ServiceError(f"SNIPSHOP_REVISION {revision!r} is not a revision: letters, digits and ._:+- only")
        return revision

    def prepare(self) -> None:
        """Write the configurations; check the script exists and the port is free."""
        if not self.script.is_file():
            raise ServiceError(f"the PHP script {self.script} does not exist")
        if port_open(self.port):
            raise ServiceError(
                f"port {self.port} is in use: stop what runs there or choose another port (./dev: PHP_PORT=...)"
            )
        if len(str(self.socket_path)) > MAX_SOCKET_PATH:
            raise ServiceError(f"{self.socket_path} is too long for a unix socket: choose a shorter working directory")
        (self.workdir / "temp").mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        for name in ("php-fpm.conf", "nginx.conf", "shop-fastcgi.conf"):
            text = fill((CONF / name).read_text(encoding="utf-8"), self.values())
            (self.workdir / name).write_text(text, encoding="utf-8")

    def commands(self) -> tuple[list[str], list[str]]:
        fpm = [
            php_fpm_binary(),
            "--nodaemonize",
            "-d",
            "opcache.enable=1",
            "--fpm-config",
            str(self.workdir / "php-fpm.conf"),
        ]
        if os.geteuid() == 0:
            fpm.append("--allow-to-run-as-root")
        conf = self.workdir / "nginx.conf"
        nginx = [nginx_binary(), "-e", str(self.workdir / "nginx-error.log"), "-p", str(self.workdir), "-c", str(conf)]
        return fpm, nginx

    def start(self, timeout: float = 20.0) -> PhpFrontend:
        """Start php-fpm, then nginx; return once a request is answered by PHP."""
        self.prepare()
        fpm, nginx = self.commands()
        env = os.environ if self.env is None else self.env
        try:
            for args in (fpm, nginx):
                self.processes.append(
                    subprocess.Popen(
                        args,
                        env=env,
                        cwd=self.workdir,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        preexec_fn=_die_with_parent(),
                    )
                )
                if args is fpm:
                    self._wait(lambda: self.socket_path.exists(), timeout, "php-fpm did not open its socket")
            self._wait(lambda: port_open(self.port), timeout, f"nginx did not open port {self.port}")
            self._wait(self._answers, timeout, "php-fpm did not answer through nginx")
        except BaseException:
            self.stop()
            raise
        return self

    def _answers(self) -> bool:
        """A request that reached PHP: anything but nginx's own 502/504 (php-fpm not ready)."""
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:
                return response.status not in (502, 504)
        except urllib.error.HTTPError as error:
            return error.code not in (502, 504)
        except OSError:
            return False

    def _wait(self, check, timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            for p, name in zip(self.processes, ("php-fpm", "nginx"), strict=False):
                if p.poll() is not None:
                    raise ServiceError(f"{name} exited with {p.returncode}; {self.logs()}")
            time.sleep(0.05)
        raise ServiceError(f"{failure} within {timeout:.0f}s; {self.logs()}")

    def logs(self, chars: int = 2000) -> str:
        """The end of both servers' logs (for error messages)."""
        parts = []
        for name in ("php-fpm.log", "nginx-error.log"):
            path = self.workdir / name
            if path.exists():
                parts.append(f"{path}:\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts) or "no logs written"

    def alive(self) -> bool:
        return bool(self.processes) and all(p.poll() is None for p in self.processes)

    def stop(self) -> None:
        """nginx first (no new requests), then php-fpm; both stop at once on SIGTERM."""
        for p in reversed(self.processes):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.processes.clear()

    def __enter__(self) -> PhpFrontend:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _die_with_parent():
    """A preexec_fn: the kernel sends SIGTERM to the server when the process that started it dies
    (a killed test run or demo leaves no server behind). libc is loaded here, in the parent."""
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    return preexec


def main(argv: list[str] | None = None) -> int:
    """Serve the PHP front end in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m tools.php_frontend", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True, help="configurations, pid files, logs, socket")
    parser.add_argument("--workers", type=int, default=2, help="php-fpm workers (default 2)")
    parser.add_argument("--script", type=Path, default=SCRIPT, help="the PHP script every request goes to")
    parser.add_argument("--dev", action="store_true", help="opcache re-reads edited files")
    args = parser.parse_args(argv)
    front = PhpFrontend(args.port, args.workdir.resolve(), args.script.resolve(), args.workers, dev=args.dev)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        front.start()
        print(f"PHP front end (php-fpm + nginx) on {front.url}, working directory {front.workdir}", flush=True)
        while front.alive():
            time.sleep(0.5)
        print(f"a server exited; {front.logs()}", file=sys.stderr)
        return 1
    except ServiceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        front.stop()


if __name__ == "__main__":
    sys.exit(main())
