"""Run several attribution models on the same journeys; one result with every credit."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.models.attribution.heuristics import (
    DEFAULT_HALF_LIFE,
    HEURISTICS,
    credit_from_weights,
    touch_weights,
)
from experiments.models.attribution.journeys import Journeys
from experiments.models.attribution.markov import markov_attribution
from experiments.models.attribution.shapley import TooManyChannelsError, shapley_attribution

__all__ = ["MODELS", "AttributionResult", "attribute", "available_models"]

#: Every model, in report order.
MODELS: tuple[str, ...] = (*HEURISTICS, "markov", "shapley")


def _plain(x: float) -> float | int | None:
    if not math.isfinite(x):
        return None
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x)


@dataclass(frozen=True)
class AttributionResult:
    """Credited conversions (and value) per model and channel, with the Markov removal effects.

    ``credits[model][channel]`` sums over channels to ``n_conversions``; ``credits_value`` likewise to
    the total value (``None`` without a value); ``skipped`` names models that could not run and why.
    """

    channels: tuple[str, ...]
    n_journeys: float
    n_conversions: float
    credits: dict[str, dict[str, float]]
    removal_effects: dict[str, float]
    credits_value: dict[str, dict[str, float]] | None = None
    total_value: float | None = None
    order: int = 1
    half_life: float = DEFAULT_HALF_LIFE
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def models(self) -> tuple[str, ...]:
        """Models that ran, in report order."""
        return tuple(self.credits)

    def shares(self, model: str) -> dict[str, float]:
        """Each channel's share of ``model``'s credit (0 when nothing converted)."""
        total = sum(self.credits[model].values())
        return {c: (v / total if total else 0.0) for c, v in self.credits[model].items()}

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``experiments attribute``: counts, channels, models, values, removal effects."""
        out: dict[str, Any] = {
            "n_journeys": _plain(self.n_journeys),
            "n_conversions": _plain(self.n_conversions),
            "channels": list(self.channels),
            "models": {m: {c: _plain(v) for c, v in cr.items()} for m, cr in self.credits.items()},
        }
        if self.credits_value is not None:
            out["total_value"] = _plain(self.total_value or 0.0)
            out["models_value"] = {m: {c: _plain(v) for c, v in cr.items()}
                                   for m, cr in self.credits_value.items()}
        out["removal_effects"] = {c: _plain(v) for c, v in self.removal_effects.items()}
        out["markov_order"] = self.order
        out["half_life_days"] = self.half_life
        out["skipped"] = dict(self.skipped)
        return out

    def to_frame(self) -> pl.DataFrame:
        """Long frame: ``model, channel, credit, share`` (and ``value_credit`` when a value was given)."""
        rows = []
        for m in self.models:
            shares = self.shares(m)
            for c in self.channels:
                row: dict[str, Any] = {"model": m, "channel": c, "credit": self.credits[m][c],
                                       "share": shares[c]}
                if self.credits_value is not None:
                    row["value_credit"] = self.credits_value[m][c]
                rows.append(row)
        schema: dict[str, Any] = {"model": pl.String, "channel": pl.String, "credit": pl.Float64,
                                  "share": pl.Float64}
        if self.credits_value is not None:
            schema["value_credit"] = pl.Float64
        return pl.DataFrame(rows, schema=schema)


def available_models(journeys: Journeys) -> tuple[str, ...]:
    """Models the journeys allow: every model, less ``time_decay`` without touch times."""
    return tuple(m for m in MODELS if m != "time_decay" or journeys.times is not None)


def attribute(
    journeys: Journeys,
    models: Sequence[str] | None = None,
    *,
    order: int = 1,
    half_life: float = DEFAULT_HALF_LIFE,
    direct: str = "direct",
) -> AttributionResult:
    """Credit every channel under each of ``models`` (default: all that ``journeys`` allow).

    Shapley is skipped (and named in ``skipped``) when there are more than 15 channels, unless it is the
    only model asked for, which is an error. Removal effects come from the Markov model of ``order``.

    Raises
    ------
    ParameterError
        An unknown model, or ``time_decay`` asked for on journeys without times.
    DataError
        No journey, or Shapley alone with too many channels.
    """
    if journeys.n_paths == 0:
        raise DataError("no journeys")
    allowed = available_models(journeys)
    wanted = list(dict.fromkeys(models)) if models else list(allowed)
    for m in wanted:
        if m not in MODELS:
            raise ParameterError("model", m, "one of " + ", ".join(MODELS))
        if m not in allowed:
            raise ParameterError("model", m, "a model the input allows: time_decay needs touch times, "
                                 "which aggregated paths do not have")
    wanted = [m for m in MODELS if m in wanted]
    has_value = journeys.value is not None
    markov = markov_attribution(journeys, order)
    # rule-based and Shapley credits come from converting (or valued) paths only: drop the rest once
    paying = journeys.conversions > 0
    if journeys.value is not None:
        paying |= journeys.value != 0
    credited = journeys if paying.all() else journeys.select(paying)
    credits: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    for m in wanted:
        if m in HEURISTICS:
            weights = touch_weights(credited, m, half_life=half_life, direct=direct)
            credits[m] = credit_from_weights(credited, weights)
            if has_value:
                values[m] = credit_from_weights(credited, weights, value=True)
        elif m == "markov":
            credits[m] = markov.credit
            if has_value and markov.credit_value is not None:
                values[m] = markov.credit_value
        else:
            try:
                credits[m] = shapley_attribution(credited)
            except TooManyChannelsError as exc:
                if len(wanted) == 1:
                    raise
                skipped[m] = str(exc)
                continue
            if has_value:
                values[m] = shapley_attribution(credited, value=True)
    ch = journeys.channels

    def named(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
        return {m: {c: float(v) for c, v in zip(ch, a, strict=True)} for m, a in arrays.items()}

    return AttributionResult(
        channels=ch, n_journeys=journeys.n_journeys, n_conversions=journeys.n_conversions,
        credits=named(credits), removal_effects={c: float(v) for c, v in zip(ch, markov.removal_effects,
                                                                              strict=True)},
        credits_value=named(values) if has_value else None,
        total_value=float(journeys.value.sum()) if journeys.value is not None else None,
        order=markov.order, half_life=float(half_life), skipped=skipped,
    )
