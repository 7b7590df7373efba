"""Benchmark save-to-visible in the back office: a product editor's save → the shop page shows it.

Usage::

    python -m bench.backoffice_saves [--products 500] [--saves 100] [--poll-ms 2]

On a stack running the real processes (``snipshop worker``, ``snipshop scheduler``, ``snipshop
serve admin`` and ``serve edge``), a back-office user (role editor) signs in as a browser would
(the sign-in form and its CSRF token, then the session cookie) and saves the product editor
``--saves`` times, each time with a new English name for another product: the form is read back
from ``GET /backoffice/products/<sku>`` whole (every locale, categories, attributes, the version)
and posted with the one change. After each save the edge product page ``/p/<sku>`` is fetched
again and again (``--poll-ms`` apart) until its title shows the new name.

Reported, p50 and p99 (nearest rank) over the saves:

* **save to visible**: from just before the POST to the first edge response showing the new name
  (the POST, its commit with the outbox and audit rows, the task, the render, the guarded write,
  up to one poll interval);
* **POST**: the save request itself, its redirect not followed;
* **commit to projected**: what the page's live status shows, from the outbox row (created at the
  commit, ``projected_at`` stamped by the task's acknowledgement), read from
  ``/backoffice/changes/<id>``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from html.parser import HTMLParser

import requests

from bench.report import latency_summary
from bench.stack import Stack, run_cli

PASSWORD = "bench password 1"


class EditorForm(HTMLParser):
    """The fields of the editor's form, as a browser would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "editor" in a.get("class", ""):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields.append((a["name"], "on"))
            else:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)


def sign_in(admin: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{admin}/backoffice/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    answer = session.post(
        f"{admin}/backoffice/login",
        data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, f"sign-in failed: {answer.status_code}"
    return session


def one_save(session: requests.Session, admin: str, edge: str, sku: str, name: str, poll: float) -> dict[str, float]:
    form = EditorForm()
    form.feed(session.get(f"{admin}/backoffice/products/{sku}", timeout=10).text)
    fields = [(k, name if k == "name.en_US" else v) for k, v in form.fields]
    started = time.perf_counter()
    answer = session.post(f"{admin}/backoffice/products/{sku}", data=fields, allow_redirects=False, timeout=10)
    posted = time.perf_counter()
    assert answer.status_code == 303, f"save of {sku} answered {answer.status_code}"
    outbox_id = int(re.search(r"saved=(\d+)", answer.headers["Location"]).group(1))  # type: ignore[union-attr]
    deadline = started + 30
    while f'"name":"{name}"' not in requests.get(f"{edge}/p/{sku}", timeout=10).text:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{name!r} did not show on /p/{sku} within 30 s")
        time.sleep(poll)
    visible = time.perf_counter()
    status = {}
    for _ in range(100):  # the acknowledgement may follow the page by a moment
        status = session.get(f"{admin}/backoffice/changes/{outbox_id}", timeout=10).json()
        if status["seconds"] is not None:
            break
        time.sleep(0.01)
    return {
        "visible_ms": (visible - started) * 1000,
        "post_ms": (posted - started) * 1000,
        "projected_ms": (status["seconds"] or float("nan")) * 1000,
    }


def run(stack: Stack, saves: int, poll: float) -> None:
    from web.backoffice.accounts import create_user

    with stack.connect() as conn:
        create_user(conn, "bench", "editor", PASSWORD)
        # Active products sold as one variant: their page carries one JSON-LD Product with the name.
        skus = [
            r[0]
            for r in conn.execute(
                """SELECT sku FROM products p WHERE active AND deleted_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM variants v WHERE v.product = p.sku AND v.sku <> p.sku)
                   ORDER BY sku LIMIT %s""",
                (saves + 5,),
            )
        ]
        assert len(skus) == saves + 5, f"the catalog has {len(skus)} active simple products; give more --products"
    stack.start_worker()
    stack.start_scheduler()
    edge = stack.start_edge()
    admin = stack.start_admin()
    session = sign_in(admin)
    for i, sku in enumerate(skus[saves:]):  # warm-up, not measured
        one_save(session, admin, edge, sku, f"Warm-up {i}", poll)
    results = [one_save(session, admin, edge, sku, f"Saved name {i}", poll) for i, sku in enumerate(skus[:saves])]
    print(f"\n{len(results)} saves, one after another (edge polled every {poll * 1000:.0f} ms):")
    for key, label in (
        ("visible_ms", "save to visible"),
        ("post_ms", "POST"),
        ("projected_ms", "commit to projected"),
    ):
        s = latency_summary(r[key] for r in results)
        print(f"  {label:22} p50 {s['p50_ms']:7.1f} ms   p99 {s['p99_ms']:7.1f} ms   max {s['max_ms']:7.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--saves", type=int, default=100)
    parser.add_argument("--poll-ms", type=float, default=2.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) at the end")
    args = parser.parse_args(argv)
    return run_cli(
        lambda stack: run(stack, args.saves, args.poll_ms / 1000),
        search="embedded",
        products=args.products,
        keep=args.keep,
    )


if __name__ == "__main__":
    sys.exit(main())
