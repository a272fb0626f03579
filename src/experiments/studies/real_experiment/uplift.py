"""The real-experiment report's uplift section: whom one arm moves, in sentences, tables and charts.

:func:`experiments.models.uplift.compare_learners` scores every customer out of fold; the functions here
word the main learner's Qini coefficient against random and its uplift per decile for
:class:`~experiments.studies.real_experiment.RealExperimentResult`, or say that no model was fitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import altair as alt
import polars as pl

from experiments.charts import uplift as uc
from experiments.formatting import fmt, p_value
from experiments.studies.real_experiment.scenario import RealExperimentScenario
from experiments.studies.targeting.scenario import LEARNER_NAMES

if TYPE_CHECKING:
    from experiments.models.uplift.results import LearnerComparison, LearnerEvaluation

__all__ = [
    "uplift_decile_chart",
    "uplift_decile_table",
    "uplift_qini_chart",
    "uplift_sentences",
    "uplift_table",
]



class _Report(Protocol):
    """What the uplift section reads of the report: its scenario and its learners' comparison."""

    @property
    def scenario(self) -> RealExperimentScenario: ...

    @property
    def uplift(self) -> LearnerComparison | None: ...


def _main(r: _Report) -> LearnerEvaluation:
    assert r.uplift is not None
    return r.uplift.evaluations[0]


def uplift_sentences(r: _Report) -> list[str]:
    """Whom the uplift arm moves, in words: the main learner's Qini against random and its deciles."""
    if r.uplift is None:
        return [_SKIPPED]
    s, ev = r.scenario, _main(r)
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
           f"highest it adds {_per(r, top.estimate)} per {s.per:,} recipients, in the lowest tenth "
           f"{_per(r, bottom.estimate)}."]
    for other in r.uplift.evaluations[1:]:
        oq = other.qini
        out.append(f"{LEARNER_NAMES[other.learner]}: Qini coefficient {oq.estimate:.3f} ({level}% CI "
                   f"{oq.ci_low:.3f} to {oq.ci_high:.3f}).")
    return out


def _per(r: _Report, x: float) -> str:
    assert r.uplift is not None
    per = r.scenario.per * x
    return ("+" if per >= 0 else "") + (fmt(per, "money") if not r.uplift.binary
                                        and r.scenario.uplift_outcome == r.scenario.decision_metric
                                        else f"{per:,.1f}")


def uplift_table(r: _Report) -> pl.DataFrame:
    """Each uplift learner: Qini coefficient with its bootstrap interval and p-value, uplift at 30%."""
    if r.uplift is None:
        return _skipped()
    per = r.scenario.per
    return pl.DataFrame([{
        "learner": LEARNER_NAMES[ev.learner], "Qini coefficient": ev.qini.estimate,
        "95% low": ev.qini.ci_low, "95% high": ev.qini.ci_high, "bootstrap p": p_value(ev.qini.p_value),
        f"uplift among the top {ev.metrics.k:.0%}, per {per:,}": per * ev.metrics.uplift_at_k,
    } for ev in r.uplift.evaluations])


def uplift_decile_table(r: _Report) -> pl.DataFrame:
    """Uplift per decile of the main learner's ranking, per ``per`` recipients, with intervals."""
    if r.uplift is None:
        return _skipped()
    per = r.scenario.per
    return _main(r).bins.to_frame().select(
        pl.col("bin").alias("decile"), pl.col("n_treatment").alias("treated"),
        pl.col("n_control").alias("control"), pl.col("mean_treatment").alias("mean treated"),
        pl.col("mean_control").alias("mean control"),
        (pl.col("estimate") * per).alias(f"uplift per {per:,}"),
        (pl.col("ci_low") * per).alias("95% low"), (pl.col("ci_high") * per).alias("95% high"))


def uplift_qini_chart(r: _Report) -> alt.Chart:
    """Qini curves of every learner and of a random ranking."""
    if r.uplift is None:
        return _skipped_chart()
    s, ev = r.scenario, _main(r)
    frames = []
    for e in r.uplift.evaluations:
        frames.append(e.metrics.to_frame().select("share", pl.col("qini").alias("value"),
                                                  pl.lit(LEARNER_NAMES[e.learner]).alias("ranking")))
    frames.append(ev.metrics.to_frame().select("share", pl.col("qini_random").alias("value"),
                                               pl.lit("random").alias("ranking")))
    verdict = "above" if ev.qini.ci_low > 0 else "not clearly above"
    title = (f"The {LEARNER_NAMES[ev.learner]}'s ranking is {verdict} random: Qini coefficient "
             f"{ev.qini.estimate:.3f} (95% CI {ev.qini.ci_low:.3f} to {ev.qini.ci_high:.3f})")
    outcome = r.uplift.outcome
    return uc.qini_curves(pl.concat(frames), title=title, y_title=f"incremental {outcome}",
                          subtitle=f"incremental {outcome} among the first share of customers, ranked by "
                          f"predicted uplift of the {s.uplift_arm} (out of fold)")


def uplift_decile_chart(r: _Report) -> alt.LayerChart | alt.Chart:
    """Uplift per decile of the main learner's ranking."""
    if r.uplift is None:
        return _skipped_chart()
    s, ev = r.scenario, _main(r)
    frame = ev.bins.to_frame().select(
        "bin", pl.col("estimate") * s.per, pl.col("ci_low") * s.per, pl.col("ci_high") * s.per,
        "n_treatment", "n_control")
    top, bottom = ev.bins.rows[0], ev.bins.rows[-1]
    title = (f"{r.uplift.outcome}: {_per(r, top.estimate)} per {s.per:,} recipients in the tenth "
             f"with the highest predicted uplift, {_per(r, bottom.estimate)} in the lowest")
    return uc.uplift_by_bin(frame, title=title, y_title=f"uplift per {s.per:,} recipients",
                            subtitle=f"{s.uplift_arm} minus {s.control}, per decile of the "
                            f"{LEARNER_NAMES[ev.learner]}'s predicted uplift (1 = highest), 95% "
                            "intervals")


_SKIPPED = ("No uplift model: uplift_treatment is empty, or auto on a file other than Hillstrom (set it "
            "to an arm label to fit one).")


def _skipped() -> pl.DataFrame:
    return pl.DataFrame({"uplift section": [_SKIPPED]})


def _skipped_chart() -> alt.Chart:
    return alt.Chart(pl.DataFrame({"x": [0]})).mark_text().encode(text=alt.value("")).properties(
        title=_SKIPPED, width=520, height=20)
