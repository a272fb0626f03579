"""One module per CLI sub-command (``experiments.commands.<name>``, ``-`` read as ``_``), each with
``register(subparsers)``; :data:`COMMANDS` lists them with their one-line help, so that ``experiments
--help`` lists every command without importing any."""

from __future__ import annotations

__all__ = ["COMMANDS", "module_name"]

#: Every sub-command and its one-line help, in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "run": "execute a study notebook and render its HTML report",
    "sweep": "run a study over a grid of parameter values (on Dask) and report the best point",
    "runs": "list the runs on record (newest first)",
    "studies": "list the studies, their questions and parameters",
    "simulate": "simulate a study's data with its truth and write it to parquet",
    "analyze": "test an experiment file (CSV or parquet)",
    "power": "sample size per arm or minimum detectable effect",
    "clv": "fit CLV models: BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma, sBG, BG/BB",
    "uplift": "cross-fitted uplift model: whom to treat, and how many",
    "uplift-eval": "Qini and uplift areas of an uplift score column (scikit-uplift's definitions)",
    "attribute": "attribution models on touchpoints or paths (CSV or parquet)",
}


def module_name(command: str) -> str:
    """The module of ``command``: ``uplift-eval`` -> ``experiments.commands.uplift_eval``."""
    return f"experiments.commands.{command.replace('-', '_')}"
