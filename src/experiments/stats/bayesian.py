"""Bayesian A/B results as GrowthBook's stats engine (gbstats) reports them: chance to beat control,
expected loss, credible interval of the relative lift.

The model is gbstats' ``EffectBayesianABTest`` with ``difference_type="relative"`` (gbstats 0.8.0,
``gbstats/bayesian/tests.py``): the relative lift ``(m1 - m0) / m0`` is estimated by the delta method,

    d = (m1 - m0) / m0,    var = v1 / (m0² n1) + v0 m1² / (m0⁴ n0),

with ``v`` the per-unit variance (``p (1 - p)`` for a binary metric, as gbstats' ``ProportionStatistic``;
the ddof = 1 sample variance otherwise, as its ``SampleMeanStatistic``). The posterior of the lift is
normal: ``N(d, var)`` under the flat prior gbstats uses by default (``GaussianPrior(proper=False)``), or,
with a proper normal prior ``N(0, prior_sd²)`` on the lift (``GaussianPrior(mean=0,
variance=prior_sd², proper=True)``), precision-weighted: ``1/s² = 1/var + 1/prior_sd²``,
``mu = s² d / var``. From it, in closed form (gbstats uses no Monte Carlo here):

- ``chance_to_beat_control`` = P(lift > 0) = Φ(mu / s) (gbstats' ``chance_to_win``);
- ``credible_low``, ``credible_high``: the central ``1 - alpha`` interval of the lift (its ``ci``);
- the relative expected loss of shipping the arm, E[max(-lift, 0)] = s φ(mu/s) - mu Φ(-mu/s)
  (gbstats' ``risk[1]``, which it computes as ``-P(lift < 0) E[lift | lift < 0]`` with scipy's truncated
  normal); ``expected_loss`` is that times the control's mean, in the metric's units per unit (GrowthBook
  shows risk the same way), and ``expected_loss_money`` that times a value per unit of the metric.

Where gbstats returns its placeholder (chance 0.5, interval [0, 0], with an error message: a control
mean of 0, an empty arm, a zero variance), and where the control's mean is negative (the sign of a
relative lift then flips), the results here are nan. Tested against gbstats 0.8.0 to 1e-12
(``tests/test_stats_bayesian.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from experiments.errors import ParameterError
from experiments.plain import plain
from experiments.stats.quality import HUGE
from experiments.stats.special import ndtr, ndtri
from experiments.stats.sufficient import SampleStats

__all__ = [
    "BAYES_KEYS",
    "BayesianEffect",
    "MetricValue",
    "bayesian_effect",
    "check_prior_sd",
    "parse_values",
]

#: Fields added to each entry of ``results`` in the JSON of ``experiments analyze --bayesian``.
BAYES_KEYS: tuple[str, ...] = ("chance_to_beat_control", "expected_loss", "credible_low", "credible_high")
_NAN = float("nan")
_PRIOR_SD_MIN, _PRIOR_SD_MAX = 1e-6, 1e6
_AMOUNT = re.compile(r"^\s*([$£€¥]?)\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*$")


@dataclass(frozen=True)
class MetricValue:
    """Money per unit of a metric (e.g. per conversion), with the currency symbol it was given with."""

    amount: float
    currency: str = ""


@dataclass(frozen=True)
class BayesianEffect:
    """Posterior of the relative lift of one arm against the control on one metric.

    ``lift_mean`` and ``lift_sd`` are the normal posterior's; ``risk`` is the expected relative loss of
    shipping the arm (gbstats' ``risk[1]``); ``expected_loss`` is ``risk`` times the control's mean,
    in the metric's units per unit; ``expected_loss_money`` that times ``value`` (when given).
    """

    metric: str
    arm: str
    control: str
    segment: str | None
    chance_to_beat_control: float
    expected_loss: float
    credible_low: float
    credible_high: float
    lift_mean: float
    lift_sd: float
    risk: float
    alpha: float
    prior_sd: float | None = None
    value: MetricValue | None = None

    @property
    def expected_loss_money(self) -> float | None:
        """Expected loss times the value per unit of the metric (``None`` without a value)."""
        return None if self.value is None else self.expected_loss * self.value.amount

    def fields(self) -> dict[str, Any]:
        """The fields added to an effect's JSON entry (:data:`BAYES_KEYS`, ``expected_loss_money``)."""
        d = {k: plain(getattr(self, k)) for k in BAYES_KEYS}
        if self.value is not None:
            d["expected_loss_money"] = plain(self.expected_loss_money)
        return d

    def summary(self) -> str:
        """One readable line."""
        seg = f" [{self.segment}]" if self.segment else ""
        level = round(100 * (1 - self.alpha))
        money = "" if self.value is None else f" ({self.value.currency}{self.expected_loss_money:.4g})"
        return (f"{self.metric}{seg}: {self.arm} vs {self.control}: P(beat control) "
                f"{self.chance_to_beat_control:.3f}, expected loss {self.expected_loss:.4g}{money}, "
                f"lift {level}% credible interval {self.credible_low:+.2%} to {self.credible_high:+.2%}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (non-finite numbers become ``None``)."""
        d = {k: plain(getattr(self, k)) for k in (
            "metric", "arm", "control", "segment", *BAYES_KEYS, "lift_mean", "lift_sd", "risk", "alpha",
            "prior_sd")}
        if self.value is not None:
            d |= {"value": self.value.amount, "currency": self.value.currency,
                  "expected_loss_money": plain(self.expected_loss_money)}
        return d


def check_prior_sd(prior_sd: Any) -> float | None:
    """``None`` (flat prior) or a positive, finite standard deviation of the relative lift."""
    if prior_sd is None:
        return None
    try:
        x = float(prior_sd)
    except (TypeError, ValueError):
        x = _NAN
    # bounded so that its precision 1 / sd² is a finite, positive float (1e-300 divided by zero)
    if not (_PRIOR_SD_MIN <= x <= _PRIOR_SD_MAX) or isinstance(prior_sd, bool):
        raise ParameterError("prior-sd", prior_sd, "a positive number: the prior's standard deviation of "
                             "the relative lift (e.g. 0.3 for a 30% lift being unusual), from 1e-06 to "
                             "1e+06; leave it out for the flat prior")
    return x


def parse_values(specs: Mapping[str, Any] | Sequence[str] | None, metrics: Sequence[str]
                 ) -> dict[str, MetricValue]:
    """``METRIC=AMOUNT`` specs (or a mapping) as money per unit of each metric.

    AMOUNT is a positive number, optionally after a currency symbol ($, £, €, ¥) that the text shows.
    A metric must be one of ``metrics``; a metric named twice is refused.
    """
    items: list[tuple[str, Any, str]] = []
    if isinstance(specs, Mapping):
        items = [(str(m), v, f"{m}={v}") for m, v in specs.items()]
    else:
        for spec in specs or ():
            metric, eq, amount = str(spec).rpartition("=")
            if not eq or not metric:
                raise ParameterError("value", spec, "METRIC=AMOUNT, e.g. converted=12.5 (money per unit "
                                     "of the metric)")
            items.append((metric, amount, str(spec)))
    out: dict[str, MetricValue] = {}
    for metric, amount, spec in items:
        if metric not in metrics:
            raise ParameterError("value", spec, "a metric of the analysis: " + ", ".join(metrics))
        if metric in out:
            raise ParameterError("value", spec, f"one value per metric; {metric!r} is named twice")
        if isinstance(amount, int | float) and not isinstance(amount, bool):
            currency, x = "", float(amount)
        else:
            m = _AMOUNT.match(str(amount))
            try:
                currency, x = (m.group(1), float(m.group(2))) if m else ("", _NAN)
            except ValueError:
                x = _NAN
        if not (0 < x <= HUGE):  # bounded like the data, so that the loss in money stays finite
            raise ParameterError("value", spec, "METRIC=AMOUNT with AMOUNT a positive number up to 1e100 "
                                 "(money per unit of the metric), optionally after $, £, € or ¥")
        out[metric] = MetricValue(x, currency)
    return out


def bayesian_effect(
    treatment: SampleStats,
    control: SampleStats,
    *,
    binary: bool,
    alpha: float = 0.05,
    prior_sd: float | None = None,
    value: MetricValue | None = None,
    metric: str = "conversion",
    arm: str = "treatment",
    control_label: str = "control",
    segment: str | None = None,
) -> BayesianEffect:
    """gbstats' Bayesian result (relative lift, flat or normal prior) for one arm against the control.

    Parameters
    ----------
    treatment, control
        Sufficient statistics of the metric in each arm (``sum`` counts successes when ``binary``).
    binary
        Variance ``p (1 - p)`` (gbstats' ``ProportionStatistic``) instead of the sample variance.
    alpha
        The credible interval is the central ``1 - alpha`` one.
    prior_sd
        Standard deviation of a normal prior on the relative lift, centred at 0 (``None``: flat prior).
    value
        Money per unit of the metric, for ``expected_loss_money``.
    """
    n1, n0 = treatment.n, control.n
    m1, m0 = treatment.mean, control.mean
    if binary:
        v1, v0 = m1 * (1 - m1), m0 * (1 - m0)
    else:
        v1, v0 = treatment.variance, control.variance
    ok = n1 > 0 and n0 > 0 and m0 > 0 and v1 > 0 and v0 > 0  # nan variances fail too
    if ok:
        d = (m1 - m0) / m0
        var = v1 / (m0**2 * n1) + v0 * m1**2 / (m0**4 * n0)
        if prior_sd is None:
            mu, s = d, math.sqrt(var)
        else:
            prec = 1 / var + 1 / prior_sd**2
            mu, s = (d / var) / prec, math.sqrt(1 / prec)
        z = mu / s
        chance = float(ndtr(z))
        low, high = mu + s * float(ndtri(alpha / 2)), mu + s * float(ndtri(1 - alpha / 2))
        risk = s * math.exp(-z * z / 2) / math.sqrt(2 * math.pi) - mu * float(ndtr(-z))
        risk = max(risk, 0.0)  # rounding far in the tail
        loss = risk * m0
    else:
        mu = s = chance = low = high = risk = loss = _NAN
    return BayesianEffect(
        metric=metric, arm=arm, control=control_label, segment=segment, chance_to_beat_control=chance,
        expected_loss=loss, credible_low=low, credible_high=high, lift_mean=mu, lift_sd=s, risk=risk,
        alpha=alpha, prior_sd=prior_sd, value=value,
    )
