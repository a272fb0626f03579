"""Effect on the exposed: two-stage least squares with assignment as the instrument, from per-arm sums.

Not everyone assigned to a treatment arm is reached (cookie loss, consent, no opt-in). With ``D`` the 0/1
exposure and ``Z`` the assignment (treatment arm 1, control 0), the 2SLS regression ``y = a + b D + u``
on the rows of the two arms, ``D`` instrumented by ``Z``, is just identified and its slope is the Wald
estimator

    b = (ybar_t - ybar_c) / (Dbar_t - Dbar_c)       (intent-to-treat effect / exposure-rate difference),

the effect on the exposed (the compliers; with one-sided non-compliance, when no control unit is
exposed, the effect on the treated who were reached). Its weights on ``y`` are
``(Z_i - Zbar) / sum_j (Z_j - Zbar) D_j``, so the heteroskedasticity-robust (HC0) variance is

    var(b) = [ sum_t u^2 / n_t^2 + sum_c u^2 / n_c^2 ] / (Dbar_t - Dbar_c)^2,     u = y - a - b D,

with ``a = ybar - b Dbar`` over both arms. ``sum_g u^2`` needs per arm only ``n``, the sums of ``y``,
``y^2``, ``D`` and ``y D`` (``D^2 = D``): the one pass gathers them. This equals linearmodels'
``IV2SLS(y, 1, D, Z).fit(cov_type="robust")`` (HC0, not debiased, normal quantiles) within 1e-9
relative on the tests' data. The means of the compliers under each arm are
``E[Y(1) | C] = (E[yD | t] - E[yD | c]) / (Dbar_t - Dbar_c)`` and
``E[Y(0) | C] = (E[y(1 - D) | c] - E[y(1 - D) | t]) / (Dbar_t - Dbar_c)`` (Imbens & Rubin 2015, ch. 24).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from experiments.errors import DataError, ParameterError
from experiments.stats.results import Effect
from experiments.stats.special import ndtr, ndtri
from experiments.stats.sufficient import ArmStatistics

__all__ = ["EXPOSED_METHOD", "Exposure", "WaldFit", "exposed_effect", "wald_fit"]

#: ``Effect.method`` of effects on the exposed.
EXPOSED_METHOD = "2SLS (assignment instruments exposure), robust HC0"


@dataclass(frozen=True)
class Exposure:
    """How many units of each arm were exposed (the exposure column's 0/1 values)."""

    column: str
    control: str
    n: Mapping[str, int]
    exposed: Mapping[str, int]

    @property
    def rate(self) -> dict[str, float]:
        """Share of each arm exposed."""
        return {a: (self.exposed[a] / n if n else float("nan")) for a, n in self.n.items()}

    @property
    def one_sided(self) -> bool:
        """Whether no control unit was exposed (one-sided non-compliance)."""
        return self.exposed.get(self.control, 0) == 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"column": self.column, "n": dict(self.n), "exposed": dict(self.exposed), "rate": self.rate,
                "one_sided": self.one_sided}

    def summary(self) -> str:
        """One readable line."""
        rates = ", ".join(f"{a} {r:.1%}" for a, r in self.rate.items())
        line = f"Exposure ({self.column}): {rates} of units reached."
        if not self.one_sided:
            line += (f" {self.exposed[self.control]:,} control unit(s) were exposed: non-compliance is "
                     "two-sided, and the effect on the exposed is the effect on the compliers only under "
                     "monotonicity (no unit exposed only when assigned to the control); a ghost-ad flag "
                     "(would have been shown) in the control is no exposure.")
        return line


@dataclass(frozen=True)
class WaldFit:
    """The 2SLS (Wald) estimate, its robust standard error and the compliers' means under each arm."""

    estimate: float
    se: float
    itt: float
    exposure_difference: float
    mean_arm: float
    mean_control: float
    n_arm: int
    n_control: int


def wald_fit(arm: Mapping[str, float], control: Mapping[str, float]) -> WaldFit:
    """2SLS of ``y`` on exposure ``D`` instrumented by assignment, from each arm's sums.

    Parameters
    ----------
    arm, control
        Per arm: ``n`` (rows with ``y``), ``y`` (sum of y), ``yy`` (sum of y^2), ``d`` (sum of D, the
        exposed among those rows) and ``yd`` (sum of y D).

    Returns
    -------
    WaldFit
    """
    nt, nc = arm["n"], control["n"]
    if nt < 1 or nc < 1:
        raise DataError("each arm needs at least one value")
    yt, yc = arm["y"] / nt, control["y"] / nc
    dt, dc = arm["d"] / nt, control["d"] / nc
    dd = dt - dc
    if dd == 0:
        raise DataError("the exposure rate is the same in both arms; the effect on the exposed is not "
                        "identified")
    itt = yt - yc
    b = itt / dd
    total = nt + nc
    a = (arm["y"] + control["y"]) / total - b * (arm["d"] + control["d"]) / total

    def ssr(s: Mapping[str, float], ybar: float, dbar: float) -> float:
        n = s["n"]
        syy = s["yy"] - n * ybar**2
        syd = s["yd"] - n * ybar * dbar
        sdd = s["d"] - n * dbar**2  # D^2 = D
        r = ybar - a - b * dbar
        return max(syy - 2 * b * syd + b**2 * sdd + n * r**2, 0.0)

    var = (ssr(arm, yt, dt) / nt**2 + ssr(control, yc, dc) / nc**2) / dd**2
    y1 = (arm["yd"] / nt - control["yd"] / nc) / dd
    y0 = ((control["y"] - control["yd"]) / nc - (arm["y"] - arm["yd"]) / nt) / dd
    return WaldFit(estimate=b, se=math.sqrt(var), itt=itt, exposure_difference=dd, mean_arm=y1,
                   mean_control=y0, n_arm=int(nt), n_control=int(nc))


def _sums(table: ArmStatistics, arm: str, metric: str, exposure: str, segment: str | None
          ) -> dict[str, float]:
    y = table.stats(arm, metric, segment)
    d = table.stats(arm, exposure, segment)
    if d.n != y.n:
        raise DataError(f"exposure {exposure!r} and metric {metric!r} must be gathered on the same rows "
                        f"(arm {arm!r}: {d.n} and {y.n})")
    return {"n": y.n, "y": y.sum, "yy": y.sum_squares, "d": d.sum,
            "yd": table.cross(arm, metric, exposure, segment)}


def exposed_effect(
    table: ArmStatistics,
    *,
    arm: str,
    control: str,
    metric: str,
    exposure: str,
    alpha: float = 0.05,
    segment: str | None = None,
) -> Effect:
    """Effect on the exposed of ``arm`` against ``control`` on ``metric`` (2SLS, robust HC0 errors).

    Parameters
    ----------
    table
        Statistics of ``metric`` and ``exposure`` gathered on the same rows, with their cross-product
        (``gather(metrics=[metric, exposure], pairs=[(metric, exposure)])`` on rows where both are present).
    arm, control
        Treatment and control labels.
    metric, exposure
        Outcome column and 0/1 exposure column.
    alpha
        1 - confidence level (normal quantiles).
    segment
        Restrict to one segment of a segmented table.

    Returns
    -------
    Effect
        ``mean_arm``/``mean_control``: the compliers' means under the arm and under the control;
        ``rel_lift`` their ratio minus one (no interval: NaN).
    """
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    t = _sums(table, arm, metric, exposure, segment)
    if t["d"] == 0:
        raise DataError(f"no unit of arm {arm!r} was exposed ({exposure!r} is 0 on every row with "
                        f"{metric!r}); the effect on the exposed cannot be estimated")
    fit = wald_fit(t, _sums(table, control, metric, exposure, segment))
    z = float(ndtri(1 - alpha / 2))
    b, se = fit.estimate, fit.se
    if se > 0:
        stat = b / se
        pval = float(2 * ndtr(-abs(stat)))
    else:
        stat, pval = float("nan"), float("nan")
    rel = fit.mean_arm / fit.mean_control - 1 if fit.mean_control > 0 else float("nan")
    return Effect(
        metric=metric, arm=arm, control=control, n_arm=fit.n_arm, n_control=fit.n_control,
        mean_arm=fit.mean_arm, mean_control=fit.mean_control, estimate=b, se=se, ci_low=b - z * se,
        ci_high=b + z * se, statistic=stat, p_value=pval, rel_lift=rel, rel_ci_low=float("nan"),
        rel_ci_high=float("nan"), method=f"{EXPOSED_METHOD} ({exposure})", alpha=float(alpha),
        segment=segment,
    )
