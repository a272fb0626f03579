"""Offline chart assets: the vega / vega-lite / vega-embed bundle, inlined once per page.

altair's default renderer writes a small script per chart that loads the three libraries from a CDN
unless ``VEGA_DEBUG`` says they are loaded already and ``vegaEmbed`` is a global. A page that inlines
the bundle from vl-convert and sets ``VEGA_DEBUG`` accordingly therefore draws every chart, with its
tooltips, with no network.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import altair as alt

from experiments.outputs import atomic_write_text

__all__ = ["vega_bundle", "vega_debug"]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "experiments"


@functools.cache
def vega_bundle() -> str:
    """The JavaScript bundle defining ``vegaEmbed``, ``vegaLite`` and ``vega`` as globals (~0.9 MB).

    Building it takes vl-convert about 1.4 s, so it is cached on disk per vl-convert and Vega-Lite
    version (``$XDG_CACHE_HOME/experiments``); a cache that cannot be written is simply skipped.
    """
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    version = vl_version_for_vl_convert()
    cached = _cache_dir() / f"vega-bundle-{vlc.__version__}-{version}.js"
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    bundle = vlc.javascript_bundle(vl_version=version).replace("</script", "<\\/script")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cached, bundle)
    except OSError:
        pass
    return bundle


def vega_debug() -> str:
    """JSON for ``VEGA_DEBUG`` telling altair's loader the libraries are present."""
    return json.dumps(
        {
            "vega_version": alt.VEGA_VERSION,
            "vegalite_version": alt.VEGALITE_VERSION,
            "vegaembed_version": alt.VEGAEMBED_VERSION,
        }
    )
