"""Offline chart assets: the vega / vega-lite / vega-embed bundle, inlined once per page.

altair's default renderer writes a small script per chart that loads the three libraries from a CDN
unless ``VEGA_DEBUG`` says they are loaded already and ``vegaEmbed`` is a global. A page that inlines
the bundle from vl-convert and sets ``VEGA_DEBUG`` accordingly therefore draws every chart, with its
tooltips, with no network.

Building the bundle takes vl-convert about 1.4 s and importing altair to learn its versions about half a
second, so both are cached on disk per installed altair and vl-convert version
(``$XDG_CACHE_HOME/experiments``): a report rendered with a warm cache imports neither. A cache that
cannot be written is simply skipped.
"""

from __future__ import annotations

import functools
import importlib.metadata as md
import json
import os
from pathlib import Path

from experiments.outputs import atomic_write_text

__all__ = ["vega_bundle", "vega_debug"]

_VERSION_KEYS = ("vega_version", "vegalite_version", "vegaembed_version", "vl")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "experiments"


def _installed(name: str) -> str:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "none"


def _key() -> str:
    return f"altair-{_installed('altair')}-vlc-{_installed('vl-convert-python')}"


def _store(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError:
        pass


@functools.cache
def _versions() -> dict[str, str]:
    """Vega, Vega-Lite and vega-embed versions of the installed altair, and the vl-convert Vega-Lite tag."""
    cached = _cache_dir() / f"vega-versions-{_key()}.json"
    try:
        out = json.loads(cached.read_text(encoding="utf-8"))
        if isinstance(out, dict) and set(_VERSION_KEYS) <= set(out):
            return out
    except (OSError, ValueError):
        pass
    # on a cache miss only: importing altair to learn its versions costs half a second (module docstring)
    import altair as alt
    from altair.utils._importers import vl_version_for_vl_convert

    out = {"vega_version": alt.VEGA_VERSION, "vegalite_version": alt.VEGALITE_VERSION,
           "vegaembed_version": alt.VEGAEMBED_VERSION, "vl": vl_version_for_vl_convert()}
    _store(cached, json.dumps(out))
    return out


@functools.cache
def vega_bundle() -> str:
    """The JavaScript bundle defining ``vegaEmbed``, ``vegaLite`` and ``vega`` as globals (~0.9 MB)."""
    version = _versions()["vl"]
    cached = _cache_dir() / f"vega-bundle-{_key()}-{version}.js"
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    # on a cache miss only, as above
    import vl_convert as vlc

    bundle = vlc.javascript_bundle(vl_version=version).replace("</script", "<\\/script")
    _store(cached, bundle)
    return bundle


def vega_debug() -> str:
    """JSON for ``VEGA_DEBUG`` telling altair's loader the libraries are present."""
    v = _versions()
    return json.dumps({k: v[k] for k in ("vega_version", "vegalite_version", "vegaembed_version")})
