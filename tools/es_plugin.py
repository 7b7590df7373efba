"""Build our Elasticsearch analysis plugin (``tools/es-analysis-plugin``) and install it into an ES_HOME.

The minimal server distribution tools/elasticsearch.py runs lacks the ``analysis-common`` module
(no ``english``/``german`` analyzers, no ``asciifolding``/``stemmer``/``edge_ngram`` filters), and
the codelibs repackaging of it is on Maven Central only up to 7.10.2. So we build a small plugin
ourselves: a classic ``Plugin implements AnalysisPlugin`` compiled with Maven against
``org.elasticsearch:elasticsearch:8.14.1`` (provided) that wraps the Lucene 9.10.0 analysis
classes the server already has in ``ES_HOME/lib`` (nothing is bundled). What it provides, with
analysis-common's names and parameters (so index settings are portable to a full Elasticsearch):

* analyzers ``english``, ``german`` (Lucene's EnglishAnalyzer / GermanAnalyzer: stop words,
  stemming; german normalizes umlauts and uses the light German stemmer), ``french``,
  ``spanish``, ``italian``, ``dutch`` - parameters ``stopwords``, ``stopwords_path``, ``stem_exclusion``;
* token filters ``asciifolding`` (``preserve_original``), ``german_normalization``, ``stemmer``
  (``language``: english/porter, porter2, light_english/kstem, minimal_english,
  possessive_english, german (Snowball), german2, light_german, minimal_german, french,
  light_french, minimal_french, spanish, light_spanish, italian, light_italian, dutch,
  portuguese, danish, swedish, norwegian), ``snowball`` (``language``: English, German, ...),
  ``porter_stem``, ``kstem``, ``german_stem``, ``edge_ngram`` and ``ngram`` (``min_gram``,
  ``max_gram``, ``preserve_original``), ``keyword_marker``, ``word_delimiter_graph``, ``length``,
  ``truncate``, ``trim``, ``uppercase``;
* tokenizers ``whitespace``, ``keyword``, ``letter``, ``edge_ngram``, ``ngram`` (``token_chars``);
* char filter ``html_strip``.

It also stands in for the lang-mustache module, which the minimal distribution lacks as well:
the ``mustache`` script language (stored search templates, ``PUT _scripts/<id>``) and the search
template API (``[/<index>]/_search/template``, ``/_render/template``), rendering as the module does
(``{{name}}`` JSON-escaped, ``{{#toJson}}``, ``{{#join}}``, sections); a small renderer of its own,
so nothing is bundled here either (docs/search-sharing.md).

Not provided: ``synonym``/``synonym_graph``, ``word_delimiter`` (non-graph), ``mapping``,
``pattern_*``, ``unique``, ``elision``, ``stemmer_override``, other languages' analyzers.

Building and installing
-----------------------
:func:`ensure_installed` (called by ``tools.elasticsearch.ensure_distribution``) hashes the plugin
sources (pom.xml and src/); when ``ES_HOME/.snipshop-analysis-plugin`` records that hash it does
nothing (a few milliseconds). Otherwise it takes the build from ``CACHE/snipshop-analysis/<hash>/``
or builds it there with ``mvn -q -B package`` (the Maven build directory is a temporary directory
in the cache, so the repo gets no ``target/``), and copies it to
``ES_HOME/plugins/snipshop-analysis/`` (staged next to ES_HOME, then renamed into place; a running
node keeps the jar it opened). Elasticsearch loads every directory in ``plugins/`` at startup, so
every node started from that ES_HOME gets the plugin. The plugin needs no security permissions.

Measured on the 2-core machine: a cold build (empty Maven repository: Maven downloads the ES
server jar, elasticsearch-core/-x-content, two Lucene jars and its build plugins, 44 MB) ~18 s; a
warm build (all in ~/.m2; ``mvn -o`` works too) 5-9 s; installing a cached build, or checking that
the installed one is current, ~1 ms. Each node logs ``loaded plugin [snipshop-analysis]``; the
plugin adds nothing measurable to node startup. ``mvn package`` run by hand writes
``tools/es-analysis-plugin/target/plugin/``.

    python -m tools.es_plugin build     (build only; prints the plugin directory)
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PLUGIN_SRC = REPO / "tools" / "es-analysis-plugin"
PLUGIN_NAME = "snipshop-analysis"
_MARKER = ".snipshop-analysis-plugin"  # in ES_HOME (not in plugins/: every entry there is a plugin)


class PluginBuildError(RuntimeError):
    pass


def source_digest(version: str) -> str:
    """Hash of the plugin's sources (pom.xml, src/) and the Elasticsearch version it is built for."""
    h = hashlib.sha256(f"es={version}\n".encode())
    files = [PLUGIN_SRC / "pom.xml", *sorted(p for p in (PLUGIN_SRC / "src").rglob("*") if p.is_file())]
    for f in files:
        h.update(f"{f.relative_to(PLUGIN_SRC)}\n".encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def build(cache_dir: Path | str, version: str, digest: str | None = None) -> Path:
    """The built plugin directory (descriptor + jar) for the current sources; Maven runs if it is not cached.

    Callers serialise through :func:`ensure_installed`'s lock (or accept a duplicate build)."""
    cache_dir = Path(cache_dir).resolve()
    digest = digest or source_digest(version)
    out = cache_dir / PLUGIN_NAME / digest
    if (out / "plugin-descriptor.properties").exists():
        return out
    mvn = shutil.which("mvn")
    if not mvn:
        raise PluginBuildError("Maven (mvn) not found: apt-get install maven")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=out.parent))
    try:
        cmd = [
            mvn,
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(PLUGIN_SRC / "pom.xml"),
            "package",
            f"-Dplugin.build.dir={work}",
            f"-Des.version={version}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        built = work / "plugin"
        if proc.returncode != 0 or not (built / "plugin-descriptor.properties").exists():
            raise PluginBuildError(
                f"building the {PLUGIN_NAME} Elasticsearch plugin failed (exit {proc.returncode}): "
                f"{' '.join(cmd)}\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"
            )
        shutil.rmtree(out, ignore_errors=True)
        built.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def ensure_installed(es_home: Path | str, cache_dir: Path | str, version: str) -> None:
    """Make ``ES_HOME/plugins/snipshop-analysis`` the build of the current sources (building if needed)."""
    es_home = Path(es_home)
    digest = source_digest(version)
    marker = es_home / _MARKER
    target = es_home / "plugins" / PLUGIN_NAME
    if _installed(marker, target, digest):
        return
    cache_dir = Path(cache_dir).resolve()
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".plugin.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed(marker, target, digest):
            return
        built = build(cache_dir, version, digest)
        staging = es_home / f".install-{PLUGIN_NAME}-{os.getpid()}"
        old = es_home / f".old-{PLUGIN_NAME}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(built, staging)
        for p in [staging, *staging.rglob("*")]:  # the nodes may run as "nobody"
            p.chmod(0o755 if p.is_dir() else 0o644)
        target.parent.mkdir(exist_ok=True)
        target.parent.chmod(0o755)
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        marker.write_text(digest + "\n")


def _installed(marker: Path, target: Path, digest: str) -> bool:
    try:
        return marker.read_text().strip() == digest and (target / "plugin-descriptor.properties").exists()
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    from tools.elasticsearch import DEFAULT_CACHE, ES_VERSION

    argv = sys.argv[1:] if argv is None else argv
    if argv != ["build"]:
        print("usage: python -m tools.es_plugin build", file=sys.stderr)
        return 2
    try:
        print(build(DEFAULT_CACHE, ES_VERSION))
    except PluginBuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
