"""Uplift statistics on per-arm sufficient statistics; knows nothing of how a table was made. One module
per topic (``sufficient``, ``effects``, ``srm``, ``economics``, ...); import from the module itself."""
