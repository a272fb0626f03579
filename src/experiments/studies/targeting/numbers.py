"""What the targeting study computes: the split, the cross-fitted learners, and each policy judged.

The customers of one simulated campaign are split into a training and an evaluation part; each uplift
learner is cross-fitted on the training part and scores the evaluation part; a purchase-probability model
ranks it the common way; five policies (:data:`POLICIES`) are judged there by inverse-propensity
weighting beside their true values. :func:`measure` returns the numbers and frames
(:class:`TargetingNumbers`); the words are in :mod:`experiments.studies.targeting.words`, the tables and
charts in :mod:`experiments.studies.targeting.result`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import polars as pl

from experiments.simulate.targeting import simulate_targeting
from experiments.studies.targeting.scenario import LEARNER_NAMES, TargetingScenario

__all__ = [
    "DELAYS",
    "DELAY_CUSTOMERS",
    "POLICIES",
    "LearnerPolicy",
    "PolicyResult",
    "TargetingNumbers",
    "delay_curve",
    "measure",
    "simulate",
]

N = TypeVar("N", bound="TargetingNumbers")

#: The five policies, in the order the report shows them.
POLICIES: tuple[str, ...] = ("uplift", "likely buyers", "everyone", "nobody", "oracle")
#: Hours from the visit to the first touch at which the true profit of treating everyone is shown.
DELAYS: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0, 8.0, 12.0, 24.0, 36.0, 48.0, 72.0)
#: Customers simulated per point of the first-touch curve (truth only: a modest size suffices).
DELAY_CUSTOMERS: int = 50_000
_GROUP_WORDS = {"persuadable": "persuadables", "sure_thing": "sure things", "lost_cause": "lost causes",
                "do_not_disturb": "do-not-disturbs"}


@dataclass(frozen=True)
class PolicyResult:
    """One policy on the evaluation part: whom it treats, its estimated and its true profit per 1,000."""

    policy: str
    label: str
    treated_share: float
    estimate: float
    ci_low: float
    ci_high: float
    truth: float
    true_conversions: float
    true_cost: float

    @property
    def covered(self) -> bool:
        """Whether the 95% interval holds the true value."""
        return bool(self.ci_low <= self.truth <= self.ci_high)


@dataclass(frozen=True)
class LearnerPolicy:
    """One uplift learner: its Qini coefficient on the evaluation part and the policy its ranking gives."""

    learner: str
    qini: float
    share: float
    policy: PolicyResult


@dataclass(frozen=True)
class TargetingNumbers:
    """Everything the targeting study measures on the evaluation part, with the truth beside it."""

    scenario: TargetingScenario
    n_train: int
    n_eval: int
    arm_counts: dict[str, dict[str, int]]
    policies: dict[str, PolicyResult]
    learners: tuple[LearnerPolicy, ...]
    share_of_oracle: tuple[float, float, float]
    gap_to_likely: tuple[float, float, float]
    gap_to_everyone: tuple[float, float, float]
    qini: pl.DataFrame
    profit: pl.DataFrame
    groups: pl.DataFrame
    delay: pl.DataFrame
    oracle_qini: float

    @property
    def learner_name(self) -> str:
        """Readable name of the targeting learner."""
        return LEARNER_NAMES[self.scenario.learner]

    @property
    def uplift(self) -> PolicyResult:
        """The policy of the targeting learner."""
        return self.policies["uplift"]

    @property
    def true_share_of_oracle(self) -> float:
        """The uplift policy's true profit as a share of the oracle's."""
        o = self.policies["oracle"].truth
        return self.uplift.truth / o if o else float("nan")

    def group_share(self, policy: str, group: str) -> float:
        """The share of the uplift ``group`` that ``policy`` treats (0 when it treats none)."""
        labels = {"uplift": f"uplift ({self.learner_name})", "likely buyers": "likeliest buyers"}
        label = labels.get(policy, policy)
        row = self.groups.filter((pl.col("policy") == label) & (pl.col("uplift_group") == group))
        return float(row["share_of_group"][0]) if row.height and row["share_of_group"][0] is not None else 0.0

    def group_sizes(self) -> dict[str, int]:
        """Customers of each uplift group in the evaluation part."""
        rows = self.groups.filter(pl.col("policy") == "oracle")
        return {g: int(n) for g, n in zip(rows["uplift_group"], rows["customers"], strict=True)}


def split_seeds(seed: int) -> tuple[np.random.Generator, int]:
    """The split's generator and the models' seed (a 32-bit integer), both derived from ``seed``."""
    ss = np.random.SeedSequence(seed)
    split, models = ss.spawn(2)
    return np.random.default_rng(split), int(models.generate_state(1)[0])


def measure(frame: pl.DataFrame, scenario: TargetingScenario, into: type[N], *, with_delay: bool = True) -> N:
    """Split, fit, rank and judge: :class:`TargetingNumbers`, as ``into`` (the numbers, or the result class
    that adds the report's words, tables and charts to them).

    ``frame`` is :func:`~experiments.simulate.targeting.simulate_targeting`'s table for ``scenario``;
    ``with_delay=False`` skips the first-touch curve (a separate simulation), leaving it empty.
    """
    from experiments.models.uplift import (
        compare_policies,
        cross_fit,
        design_matrix,
        make_learner,
        profit_curve,
        response_scores,
        uplift_metrics,
    )
    from experiments.simulate.remarketing import cate_column
    from experiments.simulate.targeting import (
        FEATURES,
        oracle_policy,
        picked_by_group,
        policy_value,
        profit_by_share,
        top_share,
    )

    s, arm, p = scenario, scenario.arm, scenario.treated_share
    n = frame.height
    split_rng, model_seed = split_seeds(s.seed)
    train = np.zeros(n, dtype=bool)
    train[split_rng.permutation(n)[: round(s.train_share * n)]] = True
    X = design_matrix(frame, FEATURES).X
    profit = (frame["margin"] - frame["cost"]).to_numpy()
    treated = frame["treatment"].to_numpy() == 1
    bought = frame["converted"].to_numpy().astype(np.float64)
    tr, ev = train, ~train
    X_tr, y_tr, t_tr = X[tr], profit[tr], treated[tr]
    y_ev, t_ev = profit[ev], treated[ev]
    part = frame.filter(pl.Series(ev))
    nobody = np.zeros(part.height, dtype=bool)

    def judge(name: str, label: str, mask: np.ndarray) -> PolicyResult:
        c = compare_policies(y_ev, t_ev, mask, nobody, propensity=p)
        true = policy_value(part, mask, arm=arm)
        return PolicyResult(name, label, float(mask.mean()), 1000 * c.estimate, 1000 * c.ci_low,
                            1000 * c.ci_high, true.profit_per_1000, true.conversions_per_1000,
                            true.cost_per_1000)

    fixed = s.fixed_share
    learners, scores = [], {}
    for name in s.learners:
        learner = make_learner(name, binary=False, propensity=p, random_state=model_seed)
        fit = cross_fit(learner, X_tr, y_tr, t_tr, folds=s.folds, seed=model_seed, X_new=X[ev])
        assert fit.new_scores is not None
        share = fixed if fixed is not None else profit_curve(y_tr, fit.scores, t_tr, propensity=p).best.share
        scores[name] = fit.new_scores
        mask = top_share(fit.new_scores, share)
        q = uplift_metrics(y_ev, fit.new_scores, t_ev).qini_auc
        learners.append(LearnerPolicy(name, q, share, judge(name, LEARNER_NAMES[name], mask)))
    main = learners[0]
    likely_scores = response_scores(X_tr[~t_tr], bought[tr][~t_tr], X[ev], random_state=model_seed)
    true_cate = part[cate_column("margin", arm)].to_numpy().astype(np.float64)
    masks = {
        "uplift": top_share(scores[s.learner], main.share),
        "likely buyers": top_share(likely_scores, main.share),
        "everyone": np.ones(part.height, dtype=bool),
        "nobody": nobody,
        "oracle": oracle_policy(part, arm=arm),
    }
    labels = {"uplift": f"highest predicted uplift ({LEARNER_NAMES[s.learner]})",
              "likely buyers": "likeliest buyers (purchase probability)", "everyone": "treat everyone",
              "nobody": "treat nobody", "oracle": "oracle (true effect > 0)"}
    short = {"uplift": f"uplift ({LEARNER_NAMES[s.learner]})", "likely buyers": "likeliest buyers",
             "oracle": "oracle"}
    policies = {name: judge(name, labels[name], masks[name]) for name in POLICIES}

    def pair(a: str, b: str, *, ratio: bool = False) -> tuple[float, float, float]:
        c = compare_policies(y_ev, t_ev, masks[a], masks[b], propensity=p)
        if ratio:
            return c.ratio, c.ratio_ci_low, c.ratio_ci_high
        return 1000 * c.estimate, 1000 * c.ci_low, 1000 * c.ci_high

    # Qini curves per learner, the oracle's and random, per 1,000 customers of the evaluation part
    per = 1000.0 / part.height
    curves = []
    for lp in learners:
        m = uplift_metrics(y_ev, scores[lp.learner], t_ev)
        curves.append(m.to_frame().select("share", (pl.col("qini") * per).alias("value"),
                                          pl.lit(LEARNER_NAMES[lp.learner]).alias("ranking")))
    om = uplift_metrics(y_ev, true_cate, t_ev)
    curves.append(om.to_frame().select("share", (pl.col("qini") * per).alias("value"),
                                       pl.lit("oracle (true effect)").alias("ranking")))
    curves.append(om.to_frame().select("share", (pl.col("qini_random") * per).alias("value"),
                                       pl.lit("random").alias("ranking")))

    # profit against the share treated: estimated (IPW, with interval) and true, per ranking
    profit_rows = []
    for ranking, sc in (("predicted uplift", scores[s.learner]), ("purchase probability", likely_scores)):
        est = profit_curve(y_ev, sc, t_ev, propensity=p).to_frame()
        profit_rows.append(est.select(
            "share", pl.lit(ranking).alias("ranking"), pl.lit("estimated").alias("kind"),
            (pl.col("estimate") * 1000).alias("profit"), (pl.col("ci_low") * 1000).alias("low"),
            (pl.col("ci_high") * 1000).alias("high")))
        profit_rows.append(_true_curve(profit_by_share(part, sc, arm=arm), ranking))
    profit_rows.append(_true_curve(profit_by_share(part, true_cate, arm=arm), "true effect (oracle)"))

    groups = pl.concat([
        picked_by_group(part, masks[name]).select(
            pl.lit(short[name]).alias("policy"),
            pl.col("uplift_group").cast(pl.String).replace_strict(_GROUP_WORDS).alias("uplift_group"),
            "customers", "share_of_group")
        for name in ("uplift", "likely buyers", "oracle")
    ])
    arm_counts = {}
    for label, mask in (("training", tr), ("evaluation", ev)):
        k = int(treated[mask].sum())
        arm_counts[label] = {arm: k, "holdout": int(mask.sum()) - k}
    return into(
        scenario=s, n_train=int(tr.sum()), n_eval=int(ev.sum()), arm_counts=arm_counts, policies=policies,
        learners=tuple(learners), share_of_oracle=pair("uplift", "oracle", ratio=True),
        gap_to_likely=pair("uplift", "likely buyers"), gap_to_everyone=pair("uplift", "everyone"),
        qini=pl.concat(curves), profit=pl.concat(profit_rows, how="vertical_relaxed"), groups=groups,
        delay=delay_curve(s) if with_delay else pl.DataFrame(schema={"hours": pl.Float64,
                                                                     "profit": pl.Float64}),
        oracle_qini=om.qini_auc,
    )


def _true_curve(curve: pl.DataFrame, ranking: str) -> pl.DataFrame:
    return curve.select("share", pl.lit(ranking).alias("ranking"), pl.lit("true").alias("kind"),
                        pl.col("profit_per_1000").alias("profit"), pl.lit(None, pl.Float64).alias("low"),
                        pl.lit(None, pl.Float64).alias("high"))


def delay_curve(scenario: TargetingScenario) -> pl.DataFrame:
    """True profit per 1,000 customers of treating everyone at each first-touch delay (``hours, profit``)."""
    from experiments.simulate.truth import first_touch_curve

    s = scenario
    hours = sorted({h for h in (*DELAYS, s.first_touch_hours) if h < 24.0 * s.days})
    curve = first_touch_curve(s.world(), hours, n_customers=min(s.n_customers, DELAY_CUSTOMERS))
    return curve.filter(pl.col("arm") == s.arm).select(
        pl.col("first_touch_hours").alias("hours"), pl.col("expected_profit_per_1000").alias("profit"))


def simulate(scenario: TargetingScenario, **options: Any) -> pl.DataFrame:
    """The randomised two-arm campaign's table, with every customer's true effect (``options``:
    ``block_size``, ``workers``, ...)."""
    return simulate_targeting(scenario.world(), arm=scenario.arm, treated_share=scenario.treated_share,
                              **options)
