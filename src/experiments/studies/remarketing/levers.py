"""The remarketing levers read from one run: effects by audience, cross-sell, unsubscribes, waste, the dip.

One pass of per-arm sufficient statistics per audience (and one pooled) gives, for each treatment arm:

- by audience: the conversion effect and the profit per 1,000 targeted (margin, less media cost, less
  ``subscriber_value`` per unsubscribe), Welch intervals, and Cochran's Q that the profit effect is the
  same in every audience (:func:`experiments.stats.heterogeneity.heterogeneity_test`);
- the cross-sell and upgrade margin per 1,000 past purchasers targeted;
- the subscriber loss per 1,000 targeted, and the media bought after a purchase (the burn pixel's waste,
  known from the ad server: no interval);
- purchases after the window per 1,000 (the limited-time offer's dip) and window plus after.

Every estimate stands beside its truth when the table is simulated: the mean over the group's customers
of the difference between their potential outcomes under the arm and under the holdout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from experiments.stats import compare, gather
from experiments.stats.heterogeneity import HeterogeneityResult, heterogeneity_test
from experiments.stats.results import Effect, plain_value

__all__ = ["GroupEffect", "LeverAnalysis", "measure_levers"]

_PAST = "past_purchasers"
# Outcome columns derived per customer: their name, expression (observed) and kind.
_METRICS = {"converted": "binary", "profit": "continuous", "addon_margin": "continuous",
            "subscriber_loss": "continuous", "converted_post": "binary", "purchases_total": "continuous"}


@dataclass(frozen=True)
class GroupEffect:
    """One effect of one arm within one group (an audience, or every customer), per 1,000 targeted.

    ``estimate``, ``ci_low`` and ``ci_high`` are 1,000 times the per-customer Welch (or Wald)
    difference; ``truth`` is 1,000 times the mean difference of the group's potential outcomes.
    """

    measure: str
    arm: str
    group: str
    n: int
    estimate: float
    ci_low: float
    ci_high: float
    truth: float | None
    unit: str
    effect: Effect

    @property
    def covered(self) -> bool | None:
        """Whether the interval holds the truth (None without truth)."""
        return None if self.truth is None else bool(self.ci_low <= self.truth <= self.ci_high)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready), without the underlying :class:`Effect`."""
        d = {k: plain_value(v) for k, v in asdict(self).items() if k != "effect"}
        d["covered"] = self.covered
        return d


@dataclass(frozen=True)
class LeverAnalysis:
    """What the levers did in one run, every estimate beside its truth."""

    subscriber_value: float
    burn_pixel: bool
    audience_profit: tuple[GroupEffect, ...]
    audience_conversions: tuple[GroupEffect, ...]
    heterogeneity: tuple[HeterogeneityResult, ...]
    cross_sell: tuple[GroupEffect, ...]
    subscriber_loss: tuple[GroupEffect, ...]
    post_window: tuple[GroupEffect, ...]
    purchases_total: tuple[GroupEffect, ...]
    wasted_cost_per_1000: dict[str, float]

    def estimates(self) -> tuple[GroupEffect, ...]:
        """Every estimate with an interval."""
        return (*self.audience_profit, *self.audience_conversions, *self.cross_sell, *self.subscriber_loss,
                *self.post_window, *self.purchases_total)

    def audiences_of(self, arm: str) -> tuple[GroupEffect, ...]:
        """Profit per 1,000 targeted of ``arm`` in each audience, best first."""
        rows = [g for g in self.audience_profit if g.arm == arm]
        return tuple(sorted(rows, key=lambda g: -g.estimate))

    def heterogeneity_of(self, arm: str) -> HeterogeneityResult | None:
        """Cochran's Q across audiences of ``arm``'s profit effect, when there are several audiences."""
        return next((h for h in self.heterogeneity if h.arm == arm), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready): every estimate, the heterogeneity tests and the media bought after a
        purchase per 1,000 targeted, by arm."""
        return {"subscriber_value": self.subscriber_value, "burn_pixel": self.burn_pixel,
                "estimates": [g.to_dict() for g in self.estimates()],
                "heterogeneity": [h.to_dict() for h in self.heterogeneity],
                "wasted_cost_per_1000": dict(self.wasted_cost_per_1000)}

    def to_frame(self) -> pl.DataFrame:
        """One row per estimate: ``measure, arm, group, n, estimate, ci_low, ci_high, truth, unit,
        covered``."""
        return pl.DataFrame([g.to_dict() for g in self.estimates()],
                            schema_overrides={"truth": pl.Float64})


def _observed(subscriber_value: float) -> dict[str, pl.Expr]:
    unsub = pl.col("unsubscribed").cast(pl.Float64)
    return {
        "converted": pl.col("converted").cast(pl.Int8),
        "profit": pl.col("margin") - subscriber_value * unsub - pl.col("cost"),
        "addon_margin": pl.col("addon_margin"),
        "subscriber_loss": subscriber_value * unsub,
        "converted_post": pl.col("converted_post").cast(pl.Int8),
        "purchases_total": (pl.col("converted") + pl.col("converted_post")).cast(pl.Float64),
    }


def _potential(name: str, arm: str, subscriber_value: float) -> pl.Expr:
    """The per-customer difference of outcome ``name`` between ``arm`` and the holdout.

    The subscriber loss is the expected one (each customer's unsubscribe probability): the holdout gets no
    messages, so it says nothing about the realised draws of the arm's customers, and the realised mean
    over every customer would be a target the difference in means estimates with a conservative
    interval (no finite-population correction).
    """
    if name == "subscriber_loss":
        return subscriber_value * pl.col(f"cate_unsubscribed__{arm}").cast(pl.Float64)

    def value(a: str) -> pl.Expr:
        unsub = pl.col(f"unsubscribed__{a}").cast(pl.Float64)
        if name == "profit":
            return pl.col(f"margin__{a}") - subscriber_value * unsub - pl.col(f"cost__{a}")
        if name == "purchases_total":
            return (pl.col(f"converted__{a}") + pl.col(f"converted_post__{a}")).cast(pl.Float64)
        return pl.col(f"{name}__{a}").cast(pl.Float64)

    return value(arm) - value("holdout")


def _truths(frame: pl.DataFrame, arms: Sequence[str], names: Sequence[str], subscriber_value: float,
            by: str | None) -> dict[tuple[str, str, str], float]:
    """``{(name, arm, group): 1,000 x mean difference}`` from the potential outcomes (group "all" if no
    ``by``)."""
    if f"margin__{arms[0]}" not in frame.columns:
        return {}
    exprs = [(1000 * _potential(n, a, subscriber_value).mean()).alias(f"{n}|{a}")
             for n in names for a in arms]
    if by is None:
        rows = frame.select(exprs).with_columns(pl.lit("all").alias("_g"))
    else:
        rows = frame.group_by(by).agg(exprs).with_columns(pl.col(by).cast(pl.String).alias("_g"))
    out = {}
    for r in rows.iter_rows(named=True):
        for key, v in r.items():
            if "|" in key:
                n, a = key.split("|")
                out[(n, a, r["_g"])] = float(v)
    return out


def _group_effects(effects: Sequence[Effect], name: str, unit: str, scale: float,
                   truths: dict[tuple[str, str, str], float],
                   group: str | None = None) -> list[GroupEffect]:
    out = []
    for e in effects:
        if e.metric != name:
            continue
        g = group or (e.segment if e.segment is not None else "all")
        t = truths.get((name, e.arm, g))
        out.append(GroupEffect(measure=name, arm=e.arm, group=g, n=e.n_arm + e.n_control,
                               estimate=scale * e.estimate, ci_low=scale * e.ci_low,
                               ci_high=scale * e.ci_high, truth=None if t is None else scale / 1000 * t,
                               unit=unit, effect=e))
    return out


def measure_levers(frame: pl.DataFrame, *, arms: Sequence[str], control: str = "holdout",
                   subscriber_value: float = 0.0, burn_pixel: bool = True,
                   alpha: float = 0.05) -> LeverAnalysis:
    """Effects by audience, cross-sell, subscriber loss, waste and the dip after the window, with truth.

    Parameters
    ----------
    frame
        A remarketing table (:func:`experiments.simulate.remarketing.simulate_remarketing`): ``arm``,
        ``audience``, ``converted``, ``margin``, ``cost``, ``unsubscribed``, ``addon_margin``,
        ``converted_post``, ``wasted_cost``; the ``<outcome>__<arm>`` columns give the truth.
    arms
        Arm labels, control first.
    subscriber_value
        Dollars lost with each unsubscribe, charged in the profit.
    """
    treatments = [a for a in arms if a != control]
    values = _observed(subscriber_value)
    lf = frame.lazy().with_columns(**values, audience=pl.col("audience").cast(pl.String))
    metrics = list(values)
    pooled = gather(lf, arm="arm", metrics=metrics)
    by_audience = gather(lf, arm="arm", metrics=["converted", "profit"], segment="audience")
    past = gather(lf.filter(pl.col("audience") == _PAST), arm="arm", metrics=["addon_margin"])
    kinds = {m: _METRICS[m] for m in metrics}
    all_effects = compare(pooled, control=control, kinds=kinds, alpha=alpha, arms=treatments)  # type: ignore[arg-type]
    truth_all = _truths(frame, treatments, metrics, subscriber_value, None)
    truth_aud = _truths(frame, treatments, ["converted", "profit"], subscriber_value, "audience")
    audiences = [s for s in by_audience.segments()]
    aud_effects: list[Effect] = []
    for seg in audiences:
        aud_effects += compare(by_audience, control=control,
                               kinds={"converted": "binary", "profit": "continuous"},
                               alpha=alpha, arms=treatments, segment=seg)
    heterogeneity = []
    for arm in treatments:
        mine = [e for e in aud_effects if e.arm == arm and e.metric == "profit" and e.se > 0]
        if len(mine) >= 2:
            heterogeneity.append(heterogeneity_test(mine))
    cross: list[GroupEffect] = []
    if past.counts().get(control, 0) and all(past.counts().get(a, 0) for a in treatments):
        truth_past = _truths(frame.filter(pl.col("audience") == _PAST), treatments, ["addon_margin"],
                             subscriber_value, None)
        cross = _group_effects(compare(past, control=control, kinds={"addon_margin": "continuous"},
                                       alpha=alpha, arms=treatments),
                               "addon_margin", "$", 1000.0, {(n, a, _PAST): v for (n, a, _), v in
                                                              truth_past.items()}, group=_PAST)
    wasted = (frame.lazy().group_by(pl.col("arm").cast(pl.String))
              .agg((1000 * pl.col("wasted_cost").mean()).alias("w")).collect())
    return LeverAnalysis(
        subscriber_value=subscriber_value, burn_pixel=burn_pixel,
        audience_profit=tuple(_group_effects(aud_effects, "profit", "$", 1000.0, truth_aud)),
        audience_conversions=tuple(_group_effects(aud_effects, "converted", "orders", 1000.0, truth_aud)),
        heterogeneity=tuple(heterogeneity),
        cross_sell=tuple(cross),
        subscriber_loss=tuple(_group_effects(all_effects, "subscriber_loss", "$", 1000.0, truth_all)),
        post_window=tuple(_group_effects(all_effects, "converted_post", "orders", 1000.0, truth_all)),
        purchases_total=tuple(_group_effects(all_effects, "purchases_total", "orders", 1000.0, truth_all)),
        wasted_cost_per_1000={r["arm"]: float(r["w"]) for r in wasted.iter_rows(named=True)},
    )
