"""wrk, the HTTP load generator the benchmarks use (Debian package ``wrk``)."""

from __future__ import annotations

import os
import shutil
import subprocess


def ensure_wrk() -> str:
    """The path of ``wrk``; installs the Debian package with apt-get when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: install the Debian package 'wrk' or use --client python")
    print("installing wrk (apt-get) ...", flush=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        stdout=subprocess.DEVNULL,
        env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
    )
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed; use --client python")
    return found
