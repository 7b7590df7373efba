"""Product images: one rule for the admin API, feed files, the Magento converter and the pages.

An image reference is where the image is and how large it is. ``src`` is either a path relative
to the shop's image base URL (``IMAGE_BASE_URL``: ``/m/b/mb01-blue-0.jpg`` or ``m/b/mb01.jpg``)
or an absolute ``https://`` URL. Either is made of ASCII letters, digits and ``. _ ~ + - /``
(an https URL may add a port and a query of ``= &``), at most :data:`MAX_SRC` characters: no
spaces, quotes, angle brackets, percent escapes or other schemes (``javascript:``, ``data:``,
``http:``), no ``.`` or ``..`` path segment and no empty one (``//host/x.jpg`` would leave the
image server). ``width`` and ``height`` are whole pixels from 1 to :data:`MAX_SIDE`, the size of
the image file: pages reserve that space before the image loads.

In a feed cell an image is ``src WIDTHxHEIGHT`` (``/m/b/mb01.jpg 400x500``), several separated by
``|``; in JSON ``{"src": ..., "width": ..., "height": ...}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_IMAGES = 20
MAX_SIDE = 10_000
MAX_SRC = 500
_SEGMENT = r"[A-Za-z0-9._~+-]+"
_PATH = rf"/?{_SEGMENT}(?:/{_SEGMENT})*"
_HTTPS = rf"https://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]{{1,5}})?(?:/{_SEGMENT})*/?(?:\?[A-Za-z0-9._~+=&-]*)?"
#: What a ``src`` looks like (the admin API's document states it); :func:`check_src` refuses more.
SRC_PATTERN = rf"(?:{_HTTPS}|{_PATH})"
SRC_RE = re.compile(SRC_PATTERN)
FEED_IMAGE_RE = re.compile(r"(\S+)\s+([0-9]{1,6})[xX]([0-9]{1,6})")
#: An image base URL: an http(s) origin with an optional path, or a path on the shop's own host.
BASE_RE = re.compile(rf"(?:https?://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]{{1,5}})?)?(?:/{_SEGMENT})*/?")


@dataclass(frozen=True)
class Image:
    src: str
    width: int
    height: int

    @property
    def absolute(self) -> bool:
        return is_absolute(self.src)


def is_absolute(src: str) -> bool:
    return src.startswith("https://")


def check_src(src: str) -> str:
    """``src`` if it is an image reference by the rule above; else ValueError saying what is wrong."""
    shown = src if len(src) <= 80 else src[:80] + "…"
    if len(src) > MAX_SRC:
        raise ValueError(f"image src must be at most {MAX_SRC} characters")
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", src)
    if scheme and scheme.group(1).lower() != "https":
        raise ValueError(
            f"image src {shown!r} must be a path relative to the image base URL or an "
            f"https:// URL (no {scheme.group(1).lower()}: URLs)"
        )
    if scheme and not is_absolute(src):
        raise ValueError(f"image src {shown!r}: an absolute URL must start with 'https://'")
    path = src[len("https://") :].split("?")[0].partition("/")[2] if is_absolute(src) else src.lstrip("/")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise ValueError(f"image src {shown!r} must not contain '..' or '.' path segments")
    if src.startswith("//") or "//" in path:
        raise ValueError(f"image src {shown!r} must not contain an empty path segment ('//')")
    if not SRC_RE.fullmatch(src):
        raise ValueError(
            f"image src {shown!r} may hold only letters, digits and . _ ~ + - / "
            f"(no spaces, quotes, '<', '%' or other characters)"
        )
    return src


def parse_feed_image(cell: str) -> dict[str, object]:
    """One image of a feed cell, ``src WIDTHxHEIGHT``, as the JSON object the models validate."""
    found = FEED_IMAGE_RE.fullmatch(cell.strip())
    if not found:
        raise ValueError(f"image {cell.strip()[:80]!r} must be 'PATH WIDTHxHEIGHT', e.g. '/m/b/mb01.jpg 400x500'")
    return {"src": found.group(1), "width": int(found.group(2)), "height": int(found.group(3))}


def feed_cell(images: list[Image]) -> str:
    """The feed cell of ``images`` (what :func:`parse_feed_image` reads back)."""
    return "|".join(f"{i.src} {i.width}x{i.height}" for i in images)


def image_base(value: str) -> str:
    """The image base URL as configured, without its trailing slash; ValueError if it is not one."""
    value = value.strip()
    if not BASE_RE.fullmatch(value) or value.startswith("//"):
        raise ValueError(
            f"IMAGE_BASE_URL {value!r} must be an http(s) URL such as https://img.example.com/catalog "
            f"or a path such as /media (letters, digits, . _ ~ + - /; no query)"
        )
    return value.rstrip("/")


def origin(base: str) -> str | None:
    """The origin (scheme, host, port) of an absolute base URL; None for a path on the shop's host."""
    found = re.match(r"https?://[^/]+", base)
    return found.group(0) if found else None


def url(src: str, base: str) -> str:
    """Where the browser fetches ``src`` (a relative path below ``base``, or the https URL itself)."""
    return src if is_absolute(src) else f"{base}/{src.lstrip('/')}"
