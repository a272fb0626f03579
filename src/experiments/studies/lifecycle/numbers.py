"""The lifecycle study's numbers: each lever's randomised read at two horizons, the marginal return of
the next budget, the long run projected from the short test, and replications.

Everything here is computed from the simulated tables with the package's statistics: per-arm sufficient
statistics (count, sum, sum of squares) gathered in one polars pass, Welch's difference of means
(:func:`experiments.stats.effects.mean_effect`), and BG/NBD with Gamma-Gamma fitted per arm
(:mod:`experiments.models.clv`). The truth comes from the world's per-customer potential outcomes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from experiments.errors import ParameterError
from experiments.exact_sums import group_sums, read_sums, sum_aggs
from experiments.models.clv import fit_purchases, fit_spend
from experiments.simulate.lifecycle import (
    HORIZONS,
    LEVERS,
    LifecycleSimulation,
    simulate_lifecycle,
    truth_column,
)
from experiments.stats.effects import mean_effect
from experiments.stats.special import stdtrit
from experiments.stats.sufficient import SampleStats
from experiments.studies.lifecycle.scenario import LifecycleScenario

__all__ = [
    "READS",
    "RETENTION_LEVERS",
    "MarginalReturn",
    "acquisition_values",
    "expected_margin",
    "lever_reads",
    "marginal_returns",
    "projection",
    "replicate",
    "replication_summary",
    "simulate",
]

#: The reads of every lever: the campaign's weeks, the long run, and the weeks after the campaign.
READS: tuple[str, ...] = ("short", "long", "after")
#: The levers that keep customers, whose best one stands for "retention" in the marginal returns.
RETENTION_LEVERS: tuple[str, ...] = ("messages", "loyalty", "recovery")


def simulate(scenario: LifecycleScenario, *, block_size: int = 1_048_576, workers: int = 1,
             **_: object) -> LifecycleSimulation:
    """The scenario's world (``experiments simulate lifecycle`` streams the same tables to parquet)."""
    return simulate_lifecycle(scenario.settings(), seed=scenario.seed, block_size=block_size, workers=workers)


def _stats_exprs(value: str, arm: str) -> tuple[list[pl.Expr], list[str]]:
    """Per-arm count, and order-free sum and sum of squares of ``value`` (see
    :mod:`experiments.exact_sums`), and the names of the sums."""
    out, names = [], []
    for side, cond in (("on", pl.col(arm)), ("off", ~pl.col(arm))):
        v = pl.col(value).filter(cond)
        key = f"{value}|{arm}|{side}"
        out += [v.len().alias(f"{key}|n"), *sum_aggs(v, f"{key}|sum"), *sum_aggs(v * v, f"{key}|sumsq")]
        names += [f"{key}|sum", f"{key}|sumsq"]
    return out, names


def lever_reads(sim: LifecycleSimulation, *, alpha: float = 0.05) -> pl.DataFrame:
    """Every lever read at both horizons: value (and purchases) per customer in its arm minus its
    holdout (Welch, from per-arm sufficient statistics gathered in one pass) and the truth (the mean of
    each customer's outcome with the lever on minus off).

    The horizons are ``short`` (the campaign's weeks), ``long`` (those and ``long_weeks`` more) and
    ``after`` (long minus short: what happened once the campaign was over).

    Returns one row per lever, measure (``value`` in $, ``purchases``) and horizon: ``lever, measure,
    horizon, n_arm, n_holdout, mean_arm, mean_holdout, estimate, ci_low, ci_high, p_value, truth,
    spend`` (the lever's spend per customer in its arm, $), ``covered``.
    """
    measures = ("value", "purchases")
    c = sim.customers.lazy().filter(pl.col("in_experiment")).with_columns(
        (pl.col(f"{m}_long") - pl.col(f"{m}_short")).alias(f"{m}_after") for m in measures)
    exprs, names = [pl.len().alias("n")], []
    for lever in LEVERS:
        for m in measures:
            for h in READS:
                e, n = _stats_exprs(f"{m}_{h}", f"arm_{lever}")
                exprs, names = exprs + e, names + n
        spend = f"spend|{lever}"
        exprs += sum_aggs(pl.col(f"spend_{lever}").filter(pl.col(f"arm_{lever}")), spend)
        names.append(spend)
    truths = [truth_column(m, h, lever, side) for lever in LEVERS for m in measures for h in HORIZONS
              for side in ("on", "off")]
    exprs += [e for col in truths for e in sum_aggs(pl.col(col), col)]
    row = read_sums(c.select(exprs).collect(), [*names, *truths]).row(0, named=True)
    truth = {}
    for lever in LEVERS:
        for m in measures:
            for h in HORIZONS:
                on, off = (row[truth_column(m, h, lever, side)] for side in ("on", "off"))
                truth[(lever, m, h)] = (on - off) / row["n"]
            truth[(lever, m, "after")] = truth[(lever, m, "long")] - truth[(lever, m, "short")]
    rows = []
    for lever in LEVERS:
        for m in measures:
            for h in READS:
                key = f"{m}_{h}|arm_{lever}"
                on, off = (SampleStats(int(row[f"{key}|{x}|n"]), float(row[f"{key}|{x}|sum"]),
                                       float(row[f"{key}|{x}|sumsq"])) for x in ("on", "off"))
                e = mean_effect(on, off, alpha=alpha, metric=f"{m}_{h}", arm=lever, control_label="holdout")
                rows.append({"lever": lever, "measure": m, "horizon": h, "n_arm": e.n_arm,
                             "n_holdout": e.n_control, "mean_arm": e.mean_arm, "mean_holdout": e.mean_control,
                             "estimate": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high,
                             "p_value": e.p_value, "truth": truth[(lever, m, h)],
                             "spend": float(row[f"spend|{lever}"]) / on.n if on.n else 0.0})
    return pl.DataFrame(rows).with_columns(
        covered=(pl.col("ci_low") <= pl.col("truth")) & (pl.col("truth") <= pl.col("ci_high")))


def expected_margin(rate: np.ndarray, dropout: np.ndarray, order_value: np.ndarray, *, weeks: int,
                    gross_margin: float, failure_rate: float, failure_dropout: float) -> np.ndarray:
    """Each customer's expected margin over her first ``weeks`` weeks in the world without levers.

    The world's rule: a first purchase in the acquisition week; then, each week she is alive,
    ``Poisson(rate)`` purchases; each repeat purchase makes her leave with ``dropout``, and a week with
    a failed purchase (each fails with ``failure_rate``) adds ``failure_dropout``. So she survives a
    week with ``q = (1 - d) e^(-rate p) + d e^(-rate (1 - (1 - p)(1 - f)))`` and the expected purchases
    are ``1 + rate (1 - f d) (1 - q^(weeks-1)) / (1 - q)``, each worth ``order_value x gross_margin``.
    """
    f, d = failure_rate, failure_dropout
    q = (1 - d) * np.exp(-rate * dropout) + d * np.exp(-rate * (1 - (1 - dropout) * (1 - f)))
    n = weeks - 1
    ratio = np.where(q < 1, (1 - q**n) / np.where(q < 1, 1 - q, 1.0), float(n))
    return (1 + rate * (1 - f * d) * ratio) * order_value * gross_margin


def acquisition_values(sim: LifecycleSimulation, costs: dict[str, float], *, weeks: int,
                       alpha: float = 0.05) -> pl.DataFrame:
    """Margin per acquired customer over her first ``weeks`` weeks, by source, with a t interval, and
    the truth (:func:`expected_margin` of the same customers). Only customers acquired early enough to
    be seen for ``weeks`` weeks count (acquisition weeks are drawn independently of the traits).

    Returns ``source, cost, n, value, ci_low, ci_high, truth, value_per_dollar``.
    """
    s = sim.settings
    last = s.horizon_weeks - weeks
    seen = sim.customers.lazy().filter(pl.col("in_experiment") & (pl.col("acquisition_week") <= last))
    margin = group_sums(
        sim.purchases.lazy().join(seen.select("customer_id", "acquisition_week"), on="customer_id")
        .filter(pl.col("week") < pl.col("acquisition_week").cast(pl.Int32) + weeks),
        ["customer_id"], {"value": pl.col("margin")})
    per = (seen.select("customer_id", "source", "true_rate", "true_dropout", "true_order_value").collect()
           .join(margin, on="customer_id", how="left").with_columns(pl.col("value").fill_null(0.0)))
    per = per.with_columns(truth=pl.Series(expected_margin(
        per["true_rate"].to_numpy(), per["true_dropout"].to_numpy(), per["true_order_value"].to_numpy(),
        weeks=weeks, gross_margin=s.gross_margin, failure_rate=s.failure_rate,
        failure_dropout=s.failure_dropout)), source=pl.col("source").cast(pl.String))
    out = (group_sums(per, ["source"], {"sum": pl.col("value"), "sumsq": pl.col("value") ** 2,
                                         "truth_sum": pl.col("truth")}, aggs=[pl.len().alias("n")])
           .filter(pl.col("n") >= 2)
           .with_columns(value=pl.col("sum") / pl.col("n"), truth=pl.col("truth_sum") / pl.col("n"),
                         sd=((pl.col("sumsq") - pl.col("sum") ** 2 / pl.col("n")) / (pl.col("n") - 1))
                         .clip(0.0).sqrt()))
    q = np.array([float(stdtrit(n - 1, 1 - alpha / 2)) for n in out["n"].to_list()])
    half = q * out["sd"].to_numpy() / np.sqrt(out["n"].to_numpy())
    cost = pl.Series([costs[name] for name in out["source"].to_list()], dtype=pl.Float64)
    return (out.with_columns(cost=cost, ci_low=pl.col("value") - half, ci_high=pl.col("value") + half)
            .with_columns(value_per_dollar=pl.col("value") / pl.col("cost"))
            .select("source", "cost", "n", "value", "ci_low", "ci_high", "truth", "value_per_dollar")
            .sort("value_per_dollar", descending=True))


@dataclass(frozen=True)
class MarginalReturn:
    """What the next ``budget`` dollars bring back (margin, $) on one route, with interval and truth."""

    route: str
    lever: str
    budget: float
    estimate: float
    ci_low: float
    ci_high: float
    truth: float
    cost_per_customer: float

    @property
    def net(self) -> float:
        """Return less the budget."""
        return self.estimate - self.budget

    def to_frame(self) -> pl.DataFrame:
        """One row: :meth:`to_dict`."""
        return pl.DataFrame([self.to_dict()])

    def to_dict(self) -> dict[str, object]:
        """Plain dict."""
        return {"route": self.route, "lever": self.lever, "budget": self.budget, "estimate": self.estimate,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "truth": self.truth,
                "cost_per_customer": self.cost_per_customer, "net": self.net}


def _lever_return(reads: pl.DataFrame, lever: str, route: str, budget: float) -> MarginalReturn:
    r = reads.filter((pl.col("lever") == lever) & (pl.col("measure") == "value")
                     & (pl.col("horizon") == "long")).row(0, named=True)
    spend = r["spend"]
    if spend <= 0:
        nan = float("nan")
        return MarginalReturn(route, lever, budget, nan, nan, nan, nan, spend)
    per = budget / spend  # customers reached by the budget at the tested spend per customer
    # the value read is net of the lever's own costs: the budget buys back its spend plus that value
    return MarginalReturn(route, lever, budget, per * (r["estimate"] + spend), per * (r["ci_low"] + spend),
                          per * (r["ci_high"] + spend), per * (r["truth"] + spend), spend)


def marginal_returns(reads: pl.DataFrame, acquisition: pl.DataFrame, *, budget: float
                     ) -> tuple[MarginalReturn, ...]:
    """The next ``budget`` on acquisition (the best source), retention (the best retention lever) and
    win-back: margin brought back over the long horizon, with interval and truth."""
    best = acquisition.row(0, named=True)
    per = budget / best["cost"]
    acq = MarginalReturn("acquisition", best["source"], budget, per * best["value"], per * best["ci_low"],
                         per * best["ci_high"], per * best["truth"], best["cost"])
    retention = [_lever_return(reads, lever, "retention", budget) for lever in RETENTION_LEVERS]
    keep = max(retention, key=lambda m: -math.inf if math.isnan(m.estimate) else m.estimate)
    return (acq, keep, _lever_return(reads, "win_back", "win_back", budget))


def projection(sim: LifecycleSimulation, reads: pl.DataFrame) -> pl.DataFrame:
    """Each lever's arms projected from the short test to the long read, against the truth.

    What is known at the campaign's end is each customer's purchases since her acquisition. Per lever
    and arm, BG/NBD is fitted on those (``frequency, recency, T`` in weeks); Gamma-Gamma is fitted once,
    on every customer's full-price order values (``(revenue - margin) / (1 - gross_margin)`` per
    purchase: the levers set prices, not baskets). A customer's projected long value is her value over
    the campaign plus the margin of her expected purchases over ``long_weeks`` at full price.

    Returns one row per lever and side: ``lever, side, projected, truth, error`` (absolute, as a share
    of the truth), ``projected_effect, true_effect`` (long run) and ``short_read``.
    """
    s = sim.settings
    end = s.campaign_end
    c = sim.customers.lazy().filter(pl.col("in_experiment") & (pl.col("acquisition_week") < end))
    hist = group_sums(
        sim.purchases.lazy().filter(pl.col("week") < end).join(c.select("customer_id"), on="customer_id"),
        ["customer_id"], {"gross": (pl.col("revenue") - pl.col("margin")) / (1 - s.gross_margin)},
        aggs=[pl.col("purchases").sum().alias("n"), pl.col("week").max().alias("last")])
    truth_cols = [truth_column("value", "long", lever, side) for lever in LEVERS for side in ("on", "off")]
    per = (c.select("customer_id", "acquisition_week", "value_short", *(f"arm_{lever}" for lever in LEVERS),
                    *truth_cols).collect()
           .join(hist, on="customer_id", how="left").sort("customer_id")
           .with_columns(frequency=(pl.col("n").fill_null(1) - 1).cast(pl.Float64),
                         recency=(pl.col("last").fill_null(pl.col("acquisition_week"))
                                  - pl.col("acquisition_week")).cast(pl.Float64),
                         T=(end - pl.col("acquisition_week")).cast(pl.Float64),
                         monetary=pl.col("gross").fill_null(0.0) / pl.col("n").fill_null(1)))
    x_all, m_all = per["frequency"].to_numpy(), per["monetary"].to_numpy()
    order_margin = fit_spend(x_all, m_all).fit.conditional_expected_value(x_all, m_all) * s.gross_margin
    summary = [per[k].to_numpy() for k in ("frequency", "recency", "T")]
    value_short = per["value_short"].to_numpy()
    truth = {col: float(np.mean(per[col].to_numpy())) for col in truth_cols}  # numpy: the same bits
    rows = []
    for lever in LEVERS:
        arm = per[f"arm_{lever}"].to_numpy()
        for side, keep in (("on", arm), ("off", ~arm)):
            x, tx, t = (a[keep] for a in summary)
            future = fit_purchases("bgnbd", x, tx, t).fit.conditional_expected_purchases(
                float(s.long_weeks), x, tx, t)
            projected = float(np.mean(value_short[keep] + future * order_margin[keep]))
            rows.append({"lever": lever, "side": side, "projected": projected,
                         "truth": truth[truth_column("value", "long", lever, side)]})
    out = pl.DataFrame(rows).with_columns(
        error=((pl.col("projected") - pl.col("truth")) / pl.col("truth")).abs())
    effects = out.pivot("side", index="lever", values=["projected", "truth"]).select(
        "lever", projected_effect=pl.col("projected_on") - pl.col("projected_off"),
        true_effect=pl.col("truth_on") - pl.col("truth_off"))
    short = reads.filter((pl.col("horizon") == "short") & (pl.col("measure") == "value")).select(
        "lever", short_read=pl.col("estimate"))
    return out.join(effects, on="lever").join(short, on="lever")


def replicate(scenario: LifecycleScenario, replications: int, *, n_customers: int = 4000,
              project: bool = False) -> pl.DataFrame:
    """``replications`` independent runs of the scenario at ``n_customers`` (seeds ``seed + i``): every
    lever's short and long read with its truth, and (``project``) the projection's errors.

    Returns one row per replication and lever: ``replication, lever, short, short_truth, long,
    long_low, long_high, long_truth`` and, with ``project``, ``error_on, error_off`` (the arms'
    projection errors), ``projected_effect, true_effect`` (long run, $).
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ParameterError("replications", replications, "an integer >= 1")
    small = scenario.replace(n_customers=n_customers)
    parts = []
    for i in range(replications):
        sim = simulate(small.replace(seed=scenario.seed + i))
        reads = lever_reads(sim, alpha=scenario.alpha)
        value = reads.filter(pl.col("measure") == "value")
        wide = (value.filter(pl.col("horizon") == "short").select("lever", short="estimate",
                                                                  short_truth="truth")
                .join(value.filter(pl.col("horizon") == "long").select(
                    "lever", long="estimate", long_low="ci_low", long_high="ci_high", long_truth="truth"),
                    on="lever", maintain_order="left"))
        if project:
            proj = projection(sim, reads)
            p = proj.pivot("side", index="lever", values="error").join(
                proj.filter(pl.col("side") == "on").select("lever", "projected_effect", "true_effect"),
                on="lever")
            wide = wide.join(p.rename({"on": "error_on", "off": "error_off"}), on="lever",
                             maintain_order="left")
        parts.append(wide.with_columns(replication=pl.lit(i)))
    return pl.concat(parts).select("replication", pl.exclude("replication"))


def replication_summary(frame: pl.DataFrame) -> dict[str, float]:
    """Coverage of the long-run intervals, the share of replications where the short read's best lever
    is not the long run's true best, and (when present) the projection's median absolute error for the
    discount's arms and for the other levers' arms, and the median absolute miss of the projected
    long-run effect ($ per customer) for each."""
    runs = frame["replication"].n_unique()
    picks = (frame.group_by("replication").agg(
        short=pl.col("lever").sort_by("short").last(), best=pl.col("lever").sort_by("long_truth").last(),
        long=pl.col("lever").sort_by("long").last()))
    out = {
        "replications": float(runs),
        "coverage": float(((frame["long_low"] <= frame["long_truth"])
                           & (frame["long_truth"] <= frame["long_high"])).mean()),
        "wrong_pick_short": float((picks["short"] != picks["best"]).mean()),
        "wrong_pick_long": float((picks["long"] != picks["best"]).mean()),
    }
    if "error_on" in frame.columns:
        errors = frame.unpivot(["error_on", "error_off"], index="lever")
        discount = pl.col("lever") == "discount"
        out["projection_error_discount"] = float(errors.filter(discount)["value"].median())
        out["projection_error_others"] = float(errors.filter(~discount)["value"].median())
        miss = frame.select("lever", miss=(pl.col("projected_effect") - pl.col("true_effect")).abs())
        out["effect_miss_discount"] = float(miss.filter(discount)["miss"].median())
        out["effect_miss_others"] = float(miss.filter(~discount)["miss"].median())
    return out
