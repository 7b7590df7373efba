"""The alert rules and the Grafana dashboard in ops/: valid PromQL (promtool, from Debian's
``prometheus`` package, which ./dev installs), alerts that fire as their unit tests say, and only
metric names the code exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.processes import REPO

OPS = REPO / "ops"
DASHBOARD = OPS / "grafana" / "snipshop.json"
NAME = re.compile(r"\bsnipshop_[a-z_]+")
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:  # ./dev installs it: a machine without it fails here, it does not skip
        pytest.fail("promtool is missing (Debian package prometheus; ./dev install installs it)")
    return found


def run(*args: str) -> None:
    done = subprocess.run([promtool(), *args], cwd=OPS / "prometheus", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_the_alert_rules_are_valid_and_fire_as_their_tests_say():
    run("check", "rules", "alerts.yml")
    run("test", "rules", "alerts-test.yml")
    run("check", "config", "prometheus.yml")


def test_every_dashboard_query_is_valid_promql(tmp_path):
    """Each panel's query as a recording rule, Grafana's variables replaced as Grafana would."""
    rules = [
        {"record": f"dashboard:query_{n}", "expr": e.replace("$revision", ".*").replace("$__rate_interval", "1m")}
        for n, e in enumerate(dashboard_expressions())
    ]
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))  # JSON is YAML
    run("check", "rules", str(path))


def test_ops_name_only_metrics_the_code_exposes():
    defined = set()
    for package in ("snipshop", "web", "projector"):
        for source in (REPO / package).rglob("*.py"):
            defined.update(re.findall(r'"(snipshop_[a-z_]+)"', source.read_text()))
    used = set(NAME.findall((OPS / "prometheus" / "alerts.yml").read_text()))
    used |= {name for e in dashboard_expressions() for name in NAME.findall(e)}
    assert len(used) > 15

    def exposed(name: str) -> bool:
        return name in defined or any(name.endswith(s) and name[: -len(s)] in defined for s in SUFFIXES)

    assert sorted(n for n in used if not exposed(n)) == []
