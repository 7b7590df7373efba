"""The parity check of the PHP front end against the edge: requests, answers, what must be equal.

Both front ends get the same request (a :class:`Req`: method, path with query, headers such as
``Cookie`` or ``If-None-Match``) over their own ``requests.Session``, which keeps connections but
no cookies (a cookie a page sets must not leak into the next request: every cookie a test wants
is in the request). An :class:`Answer` keeps the status, the headers that matter and the body;
:func:`differences` says how two answers differ, :func:`crawl` walks every link reachable from
the home page to a given depth comparing as it goes, and :class:`Parity` collects the results and
prints a readable diff of the first differences.

What must be equal: the status, the body byte for byte, and the headers in :data:`COMPARED`
(among them ``X-Revision`` and ``X-Generation``). ``X-Request-Id`` is new for every request, so it
is not compared across the two: each must send one, the client's own when that is a sane token
(web/revision.py), else a fresh one (:func:`request_id_problems`).
``Set-Cookie`` is compared as cookies: name, value and attributes (attribute names in any case,
in any order), with ``Expires`` allowed to differ by a few seconds, the two answers not being
made in the same second. ``Date``, ``Server``, ``Content-Length`` and the connection headers are
the servers' own. The stylesheet (``/static/...``) is compared by status, type, revision and body:
its validators come from the file system (Flask's ETag and Last-Modified take the file's mtime),
and nginx, which serves it beside PHP, reads no generation.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from html import unescape
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urljoin, urlsplit

import requests

from web.revision import SANE_REQUEST_ID

#: Headers both front ends must send alike (absent on both is alike).
COMPARED = (
    "Content-Type",
    "Cache-Control",
    "Vary",
    "ETag",
    "Retry-After",
    "Location",
    "Allow",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Revision",
    "X-Generation",
)
#: A request id either front end makes up: 16 random bytes in hex (web/revision.py).
FRESH_ID = re.compile(r"[0-9a-f]{32}")
STATIC_COMPARED = ("Content-Type", "X-Revision")
#: Two answers to one request come at most this far apart: their cookies' Expires may differ by it.
EXPIRES_SLACK_SECONDS = 5
HREF = re.compile(r'href="([^"]*)"')


@dataclass(frozen=True)
class Req:
    path: str
    method: str = "GET"
    #: Values as str (sent as Latin-1, as HTTP/1.1 clients do) or bytes (sent as they are).
    headers: tuple[tuple[str, str | bytes], ...] = ()

    def __str__(self) -> str:
        extra = "".join(f" [{k}: {v[:80]!s}]" for k, v in self.headers)
        shown = self.path if len(self.path) <= 160 else f"{self.path[:150]}…({len(self.path)} chars)"
        return f"{self.method} {shown}{extra}"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str | None], ...]
    cookies: tuple[str, ...]
    body: bytes
    request_id: str | None = None

    def header(self, name: str) -> str | None:
        return dict(self.headers).get(name)

    @property
    def html(self) -> bool:
        return (self.header("Content-Type") or "").startswith("text/html")


def session() -> requests.Session:
    """A session that keeps its connections and no cookies."""
    s = requests.Session()
    s.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return s


def fetch(s: requests.Session, base: str, req: Req) -> Answer:
    r = s.request(req.method, base + req.path, headers=dict(req.headers), allow_redirects=False, timeout=30)
    names = STATIC_COMPARED if req.path.startswith("/static/") else COMPARED
    return Answer(
        r.status_code,
        tuple((name, r.headers.get(name)) for name in names),
        tuple(r.raw.headers.getlist("Set-Cookie")),
        r.content,
        r.headers.get("X-Request-Id"),
    )


def cookie_parts(raw: str) -> tuple[str, dict[str, str]]:
    """``name=value`` and the attributes of one Set-Cookie header (names lower case)."""
    first, *rest = (part.strip() for part in raw.split(";"))
    attrs = {}
    for part in rest:
        name, _, value = part.partition("=")
        attrs[name.strip().lower()] = value.strip()
    return first, attrs


def same_cookies(a: Sequence[str], b: Sequence[str]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(sorted(a), sorted(b), strict=True):
        (nx, ax), (ny, ay) = cookie_parts(x), cookie_parts(y)
        ex, ey = ax.pop("expires", None), ay.pop("expires", None)
        if nx != ny or ax != ay or (ex is None) != (ey is None):
            return False
        if ex is not None and ey is not None:
            gap = abs((parsedate_to_datetime(ex) - parsedate_to_datetime(ey)).total_seconds())
            if gap > EXPIRES_SLACK_SECONDS:
                return False
    return True


def differences(edge: Answer, php: Answer) -> list[str]:
    """What differs between the edge's answer and the PHP front end's (empty: identical)."""
    found = []
    if edge.status != php.status:
        found.append(f"status: edge {edge.status}, PHP {php.status}")
    for (name, e), (_, p) in zip(edge.headers, php.headers, strict=True):
        if e != p:
            found.append(f"{name}: edge {e!r}, PHP {p!r}")
    if not same_cookies(edge.cookies, php.cookies):
        found.append(f"Set-Cookie: edge {list(edge.cookies)!r}, PHP {list(php.cookies)!r}")
    if edge.body != php.body:
        found.append(f"body ({len(edge.body)} bytes at the edge, {len(php.body)} from PHP):\n{body_diff(edge, php)}")
    return found


def request_id_problems(req: Req, edge: Answer, php: Answer) -> list[str]:
    """What is wrong with the two answers' ``X-Request-Id``: each must echo the request's own when
    it is a sane token, else send a fresh one (not the one sent)."""
    sent = next((v for k, v in req.headers if k.lower() == "x-request-id"), None)
    keep = isinstance(sent, str) and SANE_REQUEST_ID.fullmatch(sent) is not None
    found = []
    for name, answer in (("edge", edge), ("PHP", php)):
        got = answer.request_id
        if keep and got != sent:
            found.append(f"X-Request-Id: {name} sent {got!r}, not the request's {sent!r}")
        elif not keep and (got is None or not FRESH_ID.fullmatch(got)):
            found.append(f"X-Request-Id: {name} sent {got!r}, not a fresh id (the request's: {sent!r})")
    return found


def body_diff(edge: Answer, php: Answer, context: int = 2, limit: int = 30) -> str:
    """A unified diff of the two bodies around their first differences, one tag a line."""

    def lines(body: bytes) -> list[str]:
        return body.decode("utf-8", "replace").replace(">", ">\n").splitlines()

    diff = list(difflib.unified_diff(lines(edge.body), lines(php.body), "edge", "PHP", n=context, lineterm=""))
    more = f"\n    … {len(diff) - limit} more diff lines" if len(diff) > limit else ""
    return "\n".join(f"    {line[:300]}" for line in diff[:limit]) + more


def links(page_path: str, body: bytes) -> list[str]:
    """The shop's own links of a page (path and query), in order; fragments dropped."""
    out = []
    for href in HREF.findall(body.decode("utf-8", "replace")):
        href = unescape(href)
        if href.startswith("#"):
            continue
        parts = urlsplit(urljoin("http://shop" + page_path, href))
        if parts.netloc != "shop":
            continue
        out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


@dataclass
class Parity:
    """Both front ends, and every request compared so far with what differed."""

    edge: str
    php: str
    compared: int = 0
    differing: list[tuple[Req, list[str]]] = field(default_factory=list)
    seconds: float = 0.0
    _sessions: tuple[requests.Session, requests.Session] = field(default_factory=lambda: (session(), session()))

    def compare(self, req: Req) -> tuple[Answer, Answer]:
        started = time.monotonic()
        edge = fetch(self._sessions[0], self.edge, req)
        php = fetch(self._sessions[1], self.php, req)
        self.seconds += time.monotonic() - started
        self.compared += 1
        found = differences(edge, php) + request_id_problems(req, edge, php)
        if found:
            self.differing.append((req, found))
        return edge, php

    def compare_all(self, reqs: Iterable[Req | str]) -> None:
        for req in reqs:
            self.compare(req if isinstance(req, Req) else Req(req))

    def crawl(self, start: str = "/", depth: int = 2) -> list[str]:
        """Every link reachable from ``start`` in ``depth`` steps, each page compared once, the
        links taken from the edge's pages; returns the paths in the order they were compared."""
        seen = {start: 0}
        order = [start]
        frontier = [start]
        for level in range(depth + 1):
            following = []
            for path in frontier:
                edge, _ = self.compare(Req(path))
                if level == depth or not edge.html or edge.status != 200:
                    continue
                for link in links(path, edge.body):
                    if link not in seen:
                        seen[link] = level + 1
                        order.append(link)
                        following.append(link)
            frontier = following
        return order

    def report(self, first: int = 8) -> str:
        """How many requests were identical, and the first differences in full."""
        head = (
            f"{self.compared - len(self.differing)} of {self.compared} requests identical "
            f"({self.seconds:.0f} s for both front ends)"
        )
        shown = []
        for req, found in self.differing[:first]:
            shown.append(f"\n* {req}\n  " + "\n  ".join(found))
        rest = self.differing[first:]
        tail = "\n\nalso differing:\n" + "\n".join(f"  {req}" for req, _ in rest[:40]) if rest else ""
        return head + "".join(shown) + tail
