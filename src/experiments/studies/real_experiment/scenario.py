"""Typed, validated parameters of the real-experiment notebook (an experiment file and its columns).

Defaults analyse Kevin Hillstrom's 2008 e-mail experiment (MineThatData challenge): 64,000 customers
randomised to a men's e-mail, a women's e-mail or no e-mail, outcomes over the next two weeks.
Column names are checked against the file's header and the control label against the arm column,
so a wrong name fails here, in one line, before any analysis.

The uplift section models whom one arm moves (for the shipped Hillstrom file, the women's e-mail
against no e-mail, on visits, from the customer features the file holds). ``uplift_treatment`` ``auto``
means that arm for the Hillstrom file and no uplift section for any other file (whose labels differ);
name an arm to model it, or leave it empty to skip the section.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from experiments.datasets import scan_table
from experiments.errors import DataError, ParameterError
from experiments.paths import HILLSTROM_CSV
from experiments.scenarios import params as P
from experiments.scenarios.base import Scenario

__all__ = ["CORRECTIONS", "DEFAULTS", "PARAMETERS", "RealExperimentScenario"]

CORRECTIONS: tuple[str, ...] = ("holm", "bh", "none")
#: The arm whose uplift the section models on the shipped Hillstrom file (``uplift_treatment=auto``).
_HILLSTROM_UPLIFT_ARM = "Womens E-Mail"
_COLUMNS = "comma-separated column names of the file"


def _column_list(name: str, default: str, help: str, allowed: str) -> P.Param:
    """Comma-separated column names, typed as a tuple (checked against the file later)."""

    def parse(value: Any) -> tuple[str, ...]:
        if isinstance(value, list | tuple):
            return tuple(str(v).strip() for v in value)
        text = P.as_text(value)  # one column whose name reads as a number arrives as a number
        if text is None:
            raise ParameterError(name, value, allowed)
        return tuple(v.strip() for v in text.split(",") if v.strip())

    return P.Param(name, default, help, allowed, "str", parse=parse, render=lambda v: ",".join(v))


#: Every parameter, declared once: default, rule, help and source. Column names are checked against
#: the file in :meth:`RealExperimentScenario.check`.
PARAMETERS: tuple[P.Param, ...] = (
    P.text("path", "", "CSV or parquet experiment file, one row per customer; empty for the Hillstrom file",
           allowed="a CSV (optionally .gz) or parquet file path, or empty for the shipped Hillstrom file"),
    P.text("arm", "segment", "column with each customer's arm", allowed="a column of the file"),
    P.text("control", "No E-Mail", "label of the control (holdout) arm in that column",
           allowed="a label of the arm column"),
    _column_list("metrics", "visit,conversion,spend",
                 "comma-separated outcome columns (0/1 columns are binary)", _COLUMNS),
    P.text("covariate", "history", "pre-period column for CUPED; empty for none",
           allowed="a column of the file, or empty"),
    _column_list("segments", "mens,womens,channel,newbie",
                 "comma-separated columns to split effects by; may be empty", _COLUMNS + ", or empty"),
    P.text("decision_metric", "spend", "the metric that decides which arm to send (one of metrics)",
           allowed="one of the metrics"),
    P.number("alpha", 0.05, "significance level (0.001 to 0.5)", low=0.001, high=0.5),
    P.choice("correction", "holm", "multiple-testing correction: holm, bh or none", CORRECTIONS),
    P.integer("per", 1000, "effects are stated per this many recipients", low=1, high=1_000_000),
    P.text("uplift_treatment", "auto", "arm whose uplift is modelled against the control; auto: the "
           "women's e-mail for the Hillstrom file, none for other files; empty skips the uplift section",
           allowed="auto, a label of the arm column other than the control, or empty"),
    P.text("uplift_outcome", "visit", "outcome of the uplift models (0/1 or amounts)",
           allowed="a numeric column of the file"),
    _column_list("uplift_features", "recency,history,mens,womens,zip_code,newbie,channel",
                 "comma-separated customer features of the uplift models", _COLUMNS),
)

#: Defaults of every parameter as plain literals (what the notebook's ``parameters`` cell holds).
DEFAULTS: dict[str, Any] = {p.name: p.default for p in PARAMETERS}


@dataclass(frozen=True)
class RealExperimentScenario(Scenario):
    """Which file to analyse and how: arm column, control label, metrics, covariate, segments.

    Build with :meth:`from_params`; :meth:`to_params` round-trips.
    """

    parameters = PARAMETERS

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
    uplift_treatment: str
    uplift_outcome: str
    uplift_features: tuple[str, ...]

    @classmethod
    def check(cls, typed: dict[str, Any]) -> dict[str, Any]:
        """Columns against the file's header, the control label against the arm column."""
        path = typed["path"]
        try:
            lf = scan_table(Path(path) if path else HILLSTROM_CSV)
        except DataError as exc:
            raise ParameterError("path", path, f"a readable CSV or parquet file ({exc})") from None
        columns = list(lf.collect_schema())
        allowed = "a column of the file: " + ", ".join(columns)
        arm = typed["arm"]
        if arm not in columns:
            raise ParameterError("arm", arm, allowed)
        metrics = _columns("metrics", typed["metrics"], columns, allowed, minimum=1)
        covariate = typed["covariate"]
        if covariate and covariate not in columns:
            raise ParameterError("covariate", covariate, allowed)
        segments = _columns("segments", typed["segments"], columns, allowed, minimum=0)
        clash = {arm, *([covariate] if covariate else []), *segments} & set(metrics)
        if clash:
            raise ParameterError("metrics", ",".join(metrics), "outcome columns other than the arm, "
                                 f"covariate and segment columns (clash: {', '.join(sorted(clash))})")
        if typed["decision_metric"] not in metrics:
            raise ParameterError("decision_metric", typed["decision_metric"], "one of " + ", ".join(metrics))
        labels = [str(v) for v in lf.select(pl.col(arm).unique()).collect()[arm].drop_nulls().to_list()]
        if typed["control"] not in labels:
            raise ParameterError("control", typed["control"], "a label of column " + repr(arm) + ": "
                                 + ", ".join(sorted(labels)))
        if len(labels) < 2:
            raise ParameterError("arm", arm, "a column with at least two arm labels")
        treatment = _uplift_arm(typed["uplift_treatment"], path)
        if treatment:
            others = sorted(x for x in labels if x != typed["control"])
            if treatment not in others:
                raise ParameterError(
                    "uplift_treatment", treatment, f"a label of column {arm!r} other than the control "
                    f"({', '.join(others)}), or empty to skip the uplift section")
            outcome = typed["uplift_outcome"]
            if outcome not in columns or outcome == arm:
                raise ParameterError("uplift_outcome", outcome, allowed)
            dtype = lf.collect_schema()[outcome]
            if not (dtype.is_numeric() or dtype == pl.Boolean):
                raise ParameterError("uplift_outcome", outcome, f"a numeric column (it holds {dtype})")
            features = _columns("uplift_features", typed["uplift_features"], columns, allowed, minimum=1)
            if arm in features or outcome in features:
                raise ParameterError("uplift_features", ",".join(features), "columns other than the arm and "
                                     "the uplift outcome")
        return typed
    @property
    def file(self) -> Path:
        """The file to analyse (the shipped Hillstrom copy unless ``path`` is set)."""
        return Path(self.path) if self.path else HILLSTROM_CSV

    @property
    def uplift_arm(self) -> str:
        """The arm the uplift section models (``auto`` resolved); empty when there is no section."""
        return _uplift_arm(self.uplift_treatment, self.path)

    @property
    def covariates(self) -> tuple[str, ...]:
        """The pre-period covariates for CUPED (empty when none is set)."""
        return (self.covariate,) if self.covariate else ()



def _columns(name: str, items: tuple[str, ...], columns: list[str], allowed: str, *, minimum: int
             ) -> tuple[str, ...]:
    if len(items) < minimum or len(set(items)) != len(items):
        raise ParameterError(name, ",".join(items), f"at least {minimum} distinct column names, "
                             "comma-separated")
    for item in items:
        if item not in columns:
            raise ParameterError(name, item, allowed)
    return items


def _uplift_arm(value: str, path: str) -> str:
    if value == "auto":
        return "" if path else _HILLSTROM_UPLIFT_ARM
    return value
