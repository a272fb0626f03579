"""The real-experiment study's words: which arm to send, whom the uplift arm moves, what the analysis
assumes and what was checked, from
:class:`~experiments.studies.real_experiment.numbers.RealExperimentNumbers`.
"""

from __future__ import annotations

from typing import Any, Literal

from experiments.formatting import fmt
from experiments.stats.results import Effect
from experiments.studies.real_experiment.numbers import (
    UPLIFT_FOLDS,
    UPLIFT_LEARNERS,
    UPLIFT_RESAMPLES,
    UPLIFT_SEED,
    RealExperimentNumbers,
)
from experiments.uplift_learners import LEARNER_NAMES

__all__ = ["SKIPPED", "assumptions", "data_checks", "uplift_sentences", "verdict_parts"]

#: What the uplift section says when no model was fitted.
SKIPPED = ("No uplift model: uplift_treatment is empty, or auto on a file other than Hillstrom (set it "
           "to an arm label to fit one).")


def _number(r: RealExperimentNumbers, metric: str, x: float) -> str:
    if metric == r.scenario.decision_metric and r.kind(metric) == "continuous":
        return ("+" if x >= 0 else "") + fmt(x, "money")
    return f"{x:+,.1f}"


def _amount(r: RealExperimentNumbers, metric: str, e: Effect) -> str:
    per = r.scenario.per
    low, high = _number(r, metric, per * e.ci_low), _number(r, metric, per * e.ci_high)
    return f"{metric} {_number(r, metric, per * e.estimate)} (95% CI {low} to {high})"


def verdict_parts(r: RealExperimentNumbers) -> dict[str, Any]:
    """Headline, details, tone and numbers of the verdict."""
    s = r.scenario
    best = r.best_arm
    d = r.decision_effect(best)
    per = f"per {s.per:,} recipients"
    effects = [_amount(r, m, r.effect(m, best, cuped=m == s.decision_metric and bool(s.covariates)))
               for m in s.metrics]
    if d.significant and d.estimate > 0:
        tone: Literal["good", "bad", "neutral"] = "good"
        head = f"Send the {best}: against {s.control}, {per} it adds " + "; ".join(effects) + "."
    elif d.significant:
        tone = "bad"
        head = f"Send nothing: even the best arm, {best}, lowers {s.decision_metric} ({effects[-1]})."
    else:
        tone = "neutral"
        head = (f"No arm clearly raises {s.decision_metric}: the best, {best}, adds "
                + "; ".join(effects) + f" {per}, not significant.")
    details = []
    if r.arm_gap is not None:
        g = r.arm_gap
        sig = "a clear" if g.significant else "not a clear"
        details.append(f"{best} against {g.control}: " + _amount(r, s.decision_metric, g)
                       + f" {per}, {sig} difference.")
    for a in r.treatment_arms:
        if a == best:
            continue
        e = r.decision_effect(a)
        details.append(f"{a} against {s.control}: " + _amount(r, s.decision_metric, e) + f" {per}.")
    if s.covariates:
        plain = r.effect(s.decision_metric, best)
        ratio = d.se / plain.se if plain.se > 0 else float("nan")
        details.append(
            f"CUPED with pre-period {', '.join(s.covariates)} changes the {s.decision_metric} interval "
            f"width by {fmt(ratio - 1, 'pct', 1)}; unadjusted: " + _amount(r, s.decision_metric, plain)
            + "."
        )
    if r.uplift is not None:
        details += uplift_sentences(r)[:1]
    srm = r.result.srm
    details.append(
        ("Arm sizes match equal shares" if not srm.mismatch else "WARNING: arm sizes do not match "
         "the intended shares") + f" (sample-ratio test p = {srm.p_value:.2f}); "
        + ("no data-quality issue." if r.result.data_quality.ok
           else "data issues: " + "; ".join(r.result.data_quality.issues))
    )
    numbers = {
        "best_arm": best, "decision_metric": s.decision_metric,
        f"effect_per_{s.per}": round(s.per * d.estimate, 2),
        f"ci_low_per_{s.per}": round(s.per * d.ci_low, 2),
        f"ci_high_per_{s.per}": round(s.per * d.ci_high, 2),
        "p_value_adjusted": d.p_value_adjusted, "srm_p_value": round(srm.p_value, 4),
    }
    return {"headline": head, "details": details, "tone": tone, "numbers": numbers}


def assumptions(r: RealExperimentNumbers) -> list[str]:
    """What the analysis assumes."""
    s = r.scenario
    return [
        f"Customers were randomised between the arms of {s.arm!r}; the control is {s.control!r}.",
        "Binary metrics: Wald difference of proportions (statsmodels); spend: Welch's t interval, "
        "which holds for skewed spend at these sample sizes (see the calibration notebook).",
        f"CUPED uses {', '.join(s.covariates) or 'no covariate'} measured before the e-mail, "
        "so it cannot be affected by it; the adjustment is the pooled regression slope.",
        "Segment effects are descriptive: many segments are tested, so a single significant one "
        "can be chance; Cochran's Q tests whether the effect really differs across segments.",
        f"Effects are stated per {s.per:,} recipients assigned, whether they opened the e-mail or not "
        "(intent to treat).",
        *([] if r.uplift is None else [
            f"Uplift models: {', '.join(LEARNER_NAMES[n] for n in UPLIFT_LEARNERS)} on histogram "
            f"gradient boosting of {s.uplift_outcome} from {', '.join(s.uplift_features)}; every "
            f"customer is scored by models fitted on the other {UPLIFT_FOLDS - 1} of {UPLIFT_FOLDS} "
            f"folds (seed {UPLIFT_SEED}), so no ranking is judged on customers its model saw.",
            "Qini coefficient as scikit-uplift 0.5 defines it (0 for a random ranking), with a "
            f"percentile interval from {UPLIFT_RESAMPLES} bootstrap resamples of customers; decile "
            "uplift with Welch intervals. Deciles are descriptive: ten intervals, no correction.",
        ]),
    ]


def data_checks(r: RealExperimentNumbers) -> list[str]:
    """Plain sentences on the checks run before any test."""
    a = r.result
    checks = [f"{a.n_rows:,} rows; arms: " + ", ".join(f"{arm} {n:,}" for arm, n in a.arms.items()) + ".",
              a.srm.summary() + ".", a.data_quality.summary()]
    kinds = ", ".join(f"{m} ({k})" for m, k in a.metrics.items())
    checks.append(f"Metrics recognised from their values: {kinds}; multiple-testing correction: "
                  f"{a.correction} over metrics × arms (segments as a separate family).")
    u = r.uplift
    if u is not None:
        left = f"; {u.n_left_out:,} rows of other arms left out" if u.n_left_out else ""
        s = r.scenario
        checks.append(f"Uplift section: {u.n_rows:,} customers ({u.n_treatment:,} {s.uplift_arm}, "
                      f"{u.n_control:,} {s.control}){left}; outcome {u.outcome} read as "
                      f"{'0/1' if u.binary else 'an amount'}.")
    return checks


def uplift_sentences(r: RealExperimentNumbers) -> list[str]:
    """Whom the uplift arm moves, in words: the main learner's Qini against random and its deciles."""
    if r.uplift is None:
        return [SKIPPED]
    s, ev = r.scenario, r.uplift.evaluations[0]
    q, rows = ev.qini, ev.bins.rows
    name = LEARNER_NAMES[ev.learner]
    level = round(100 * (1 - q.alpha))
    p = "< 0.001" if q.p_value < 0.001 else f"= {q.p_value:.3f}"
    if q.ci_low > 0:
        ranks = (f"the {name} ranks customers better than random (Qini coefficient {q.estimate:.3f}, "
                 f"{level}% CI {q.ci_low:.3f} to {q.ci_high:.3f}, bootstrap p {p})")
    else:
        ranks = (f"the {name}'s ranking is not clearly better than random (Qini coefficient "
                 f"{q.estimate:.3f}, {level}% CI {q.ci_low:.3f} to {q.ci_high:.3f})")
    top, bottom = rows[0], rows[-1]
    out = [f"Whom the {s.uplift_arm} moves ({r.uplift.outcome}): {ranks}; in the tenth it ranks "
           f"highest it adds {per_recipients(r, top.estimate)} per {s.per:,} recipients, in the lowest "
           f"tenth {per_recipients(r, bottom.estimate)}."]
    for other in r.uplift.evaluations[1:]:
        oq = other.qini
        out.append(f"{LEARNER_NAMES[other.learner]}: Qini coefficient {oq.estimate:.3f} ({level}% CI "
                   f"{oq.ci_low:.3f} to {oq.ci_high:.3f}).")
    return out


def per_recipients(r: RealExperimentNumbers, x: float) -> str:
    """``x`` per ``per`` recipients, signed: money when the outcome is the decision metric's amount."""
    assert r.uplift is not None
    per = r.scenario.per * x
    return ("+" if per >= 0 else "") + (fmt(per, "money") if not r.uplift.binary
                                        and r.scenario.uplift_outcome == r.scenario.decision_metric
                                        else f"{per:,.1f}")
