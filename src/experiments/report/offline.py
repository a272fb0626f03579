"""Offline chart assets: the vega / vega-lite / vega-embed bundle, inlined once per page.

altair's default renderer writes a small script per chart that loads the three libraries from a CDN
unless ``VEGA_DEBUG`` says they are loaded already and ``vegaEmbed`` is a global. A page that inlines
the bundle from vl-convert and sets ``VEGA_DEBUG`` accordingly therefore draws every chart, with its
tooltips, with no network.
"""

from __future__ import annotations

import functools
import json

import altair as alt

__all__ = ["vega_bundle", "vega_debug"]


@functools.cache
def vega_bundle() -> str:
    """The JavaScript bundle defining ``vegaEmbed``, ``vegaLite`` and ``vega`` as globals (~0.9 MB)."""
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    bundle = vlc.javascript_bundle(vl_version=vl_version_for_vl_convert())
    return bundle.replace("</script", "<\\/script")


def vega_debug() -> str:
    """JSON for ``VEGA_DEBUG`` telling altair's loader the libraries are present."""
    return json.dumps(
        {
            "vega_version": alt.VEGA_VERSION,
            "vegalite_version": alt.VEGALITE_VERSION,
            "vegaembed_version": alt.VEGAEMBED_VERSION,
        }
    )
