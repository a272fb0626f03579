"""Typed, validated parameters of the real-experiment notebook (an experiment file and its columns).

Defaults analyse Kevin Hillstrom's 2008 e-mail experiment (MineThatData challenge): 64,000 customers
randomised to a men's e-mail, a women's e-mail or no e-mail, outcomes over the next two weeks.
Column names are checked against the file's header and the control label against the arm column,
so a wrong name fails here, in one line, before any analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.paths import HILLSTROM_CSV
from experiments.scenarios.base import Scenario
from experiments.validation import as_choice, as_float, as_int

__all__ = ["CORRECTIONS", "DEFAULTS", "RealExperimentScenario"]

CORRECTIONS: tuple[str, ...] = ("holm", "bh", "none")

DEFAULTS: dict[str, Any] = {
    "path": "",  # empty: the shared Hillstrom file
    "arm": "segment",
    "control": "No E-Mail",
    "metrics": "visit,conversion,spend",
    "covariate": "history",
    "segments": "mens,womens,channel,newbie",
    "decision_metric": "spend",
    "alpha": 0.05,
    "correction": "holm",
    "per": 1000,
}


@dataclass(frozen=True)
class RealExperimentScenario(Scenario):
    """Which file to analyse and how: arm column, control label, metrics, covariate, segments.

    Build with :meth:`from_params`; :meth:`to_params` round-trips.
    """

    defaults = DEFAULTS

    path: str
    arm: str
    control: str
    metrics: tuple[str, ...]
    covariate: str
    segments: tuple[str, ...]
    decision_metric: str
    alpha: float
    correction: str
    per: int

    @classmethod
    def from_params(cls, params: Mapping[str, object] | None = None) -> RealExperimentScenario:
        """Validate ``params`` against :data:`DEFAULTS` and the file's columns; build the scenario.

        Raises
        ------
        ParameterError
            One line naming the parameter, the value and what is allowed.
        """
        from experiments.datasets import scan_table

        p = cls.merged(params)
        raw_path = p["path"]
        if not isinstance(raw_path, str | Path):
            raise ParameterError("path", raw_path, "a CSV or parquet file path, or empty for Hillstrom")
        path = str(raw_path).strip()
        try:
            lf = scan_table(Path(path) if path else HILLSTROM_CSV)
        except DataError as exc:
            raise ParameterError("path", raw_path, f"a readable CSV or parquet file ({exc})") from None
        columns = list(lf.collect_schema())
        allowed = "a column of the file: " + ", ".join(columns)
        arm = as_choice("arm", _text(p["arm"]), columns)
        metrics = _columns("metrics", p["metrics"], columns, allowed, minimum=1)
        covariate = _text(p["covariate"])
        if covariate != "":
            covariate = as_choice("covariate", covariate, columns)
        segments = _columns("segments", p["segments"], columns, allowed, minimum=0)
        clash = {arm, *([covariate] if covariate else []), *segments} & set(metrics)
        if arm in metrics or clash:
            raise ParameterError("metrics", p["metrics"], "outcome columns other than the arm, covariate "
                                 f"and segment columns (clash: {', '.join(sorted(clash))})")
        decision = as_choice("decision_metric", _text(p["decision_metric"]), metrics)
        labels = [str(v) for v in lf.select(pl.col(arm).unique()).collect()[arm].drop_nulls().to_list()]
        control = p["control"]
        if not isinstance(control, str) or control not in labels:
            raise ParameterError("control", control, "a label of column " + repr(arm) + ": "
                                 + ", ".join(sorted(labels)))
        if len(labels) < 2:
            raise ParameterError("arm", arm, "a column with at least two arm labels")
        return cls(
            path=path, arm=arm, control=control, metrics=metrics, covariate=covariate,
            segments=segments, decision_metric=decision,
            alpha=as_float("alpha", p["alpha"], low=0.001, high=0.5),
            correction=as_choice("correction", _text(p["correction"]), CORRECTIONS),
            per=as_int("per", p["per"], low=1, high=1_000_000),
        )

    def to_params(self) -> dict[str, Any]:
        """Plain literals that :meth:`from_params` turns back into ``self``."""
        out = asdict(self)
        out["metrics"] = ",".join(self.metrics)
        out["segments"] = ",".join(self.segments)
        return out

    @property
    def file(self) -> Path:
        """The file to analyse (the shared Hillstrom copy unless ``path`` is set)."""
        return Path(self.path) if self.path else HILLSTROM_CSV

    @property
    def covariates(self) -> tuple[str, ...]:
        """The pre-period covariates for CUPED (empty when none is set)."""
        return (self.covariate,) if self.covariate else ()


def _text(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _columns(name: str, value: object, columns: list[str], allowed: str, *, minimum: int
             ) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, list | tuple):
        items = [str(v).strip() for v in value]
    else:
        raise ParameterError(name, value, "comma-separated column names")
    if len(items) < minimum or len(set(items)) != len(items):
        raise ParameterError(name, value, f"at least {minimum} distinct column names, comma-separated")
    for item in items:
        if item not in columns:
            raise ParameterError(name, item, allowed)
    return tuple(items)
