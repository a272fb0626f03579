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

from experiments.models.uplift.evaluation import compare_policies, profit_curve
from experiments.models.uplift.features import design_matrix
from experiments.models.uplift.learners import cross_fit, make_learner, response_scores
from experiments.models.uplift.metrics import uplift_metrics
from experiments.models.uplift.offers import (
    assign_offers,
    budget_curve,
    compare_terms,
    fit_arm_models,
    policy_terms,
    term_value,
)
from experiments.simulate.offers import (
    FEATURE_SOURCES,
    OFFER_FEATURES,
    OfferSettings,
    assignment_value,
    media_cost,
    oracle_assignment,
    simulate_offers,
    subsidy,
)
from experiments.simulate.remarketing import cate_column
from experiments.simulate.targeting import (
    FEATURES,
    oracle_policy,
    picked_by_group,
    policy_value,
    profit_by_share,
    simulate_targeting,
    top_share,
)
from experiments.simulate.truth import first_touch_curve
from experiments.studies.targeting.scenario import TargetingScenario
from experiments.uplift_learners import LEARNER_NAMES

__all__ = [
    "DATA_STEPS",
    "DELAYS",
    "DELAY_CUSTOMERS",
    "OFFER_POLICIES",
    "OFFER_WORDS",
    "POLICIES",
    "RULE_CONDITIONS",
    "DataStep",
    "LearnerPolicy",
    "OfferPolicy",
    "OfferStudy",
    "PolicyResult",
    "TargetingNumbers",
    "delay_curve",
    "measure",
    "measure_offers",
    "offer_settings",
    "simulate",
    "simulate_offer_table",
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
    #: Which offer for whom (a second randomised test; None when left out).
    offers: OfferStudy | None = None

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


def measure(frame: pl.DataFrame, scenario: TargetingScenario, into: type[N], *, with_delay: bool = True,
            with_offers: bool = True) -> N:
    """Split, fit, rank and judge: :class:`TargetingNumbers`, as ``into`` (the numbers, or the result class
    that adds the report's words, tables and charts to them).

    ``frame`` is :func:`~experiments.simulate.targeting.simulate_targeting`'s table for ``scenario``;
    ``with_delay=False`` skips the first-touch curve (a separate simulation), leaving it empty;
    ``with_offers=False`` skips the offer test (:func:`measure_offers`, its own simulation).
    """
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
        oracle_qini=om.qini_auc, offers=measure_offers(s) if with_offers else None,
    )


def _true_curve(curve: pl.DataFrame, ranking: str) -> pl.DataFrame:
    return curve.select("share", pl.lit(ranking).alias("ranking"), pl.lit("true").alias("kind"),
                        pl.col("profit_per_1000").alias("profit"), pl.lit(None, pl.Float64).alias("low"),
                        pl.lit(None, pl.Float64).alias("high"))


def delay_curve(scenario: TargetingScenario) -> pl.DataFrame:
    """True profit per 1,000 customers of treating everyone at each first-touch delay (``hours, profit``)."""
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


# ---------------------------------------------------------------------------------- which offer for whom

#: Readable names of the offers.
OFFER_WORDS: dict[str, str] = {"reminder": "reminder e-mail", "dynamic_ad": "dynamic ad",
                               "discount": "discount", "free_shipping": "free shipping"}
#: The offer policies, in the order the report shows them.
OFFER_POLICIES: tuple[str, ...] = ("model", "segment rule", "everyone", "likeliest buyers", "oracle")
#: Conditions a one-line segment rule may use: (words, column, operator, threshold).
RULE_CONDITIONS: tuple[tuple[str, str, str, float], ...] = (
    ("who did not buy last month", "bought_last_month", "==", 0.0),
    ("who bought last month", "bought_last_month", "==", 1.0),
    ("with no order in the past year", "pre_orders", "==", 0.0),
    ("with a price-sensitivity score above 1", "price_sensitivity", ">", 1.0),
    ("with a cart under $60", "cart_value", "<", 60.0),
    ("with a cart over $120", "cart_value", ">", 120.0),
    ("under 35", "age_under_35", "==", 1.0),
    ("cookie-matched", "cookie_matched", "==", 1.0),
    ("opted in to e-mail", "email_opt_in", "==", 1.0),
    ("who reached checkout", "reached_checkout", "==", 1.0),
)
#: Feature sets of the value-of-data check, each adding one source to the one before.
DATA_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("purchase history", ("purchase history",)),
    ("plus browsing", ("purchase history", "browsing")),
    ("plus demographics", ("purchase history", "browsing", "demographics")),
)


@dataclass(frozen=True)
class OfferPolicy:
    """One assignment of offers on the evaluation part, per 1,000 customers: estimated and true."""

    policy: str
    label: str
    treated_share: float
    estimate: float
    ci_low: float
    ci_high: float
    truth: float
    true_spend: float
    by_offer: dict[str, int]

    @property
    def covered(self) -> bool:
        """Whether the 95% interval holds the true value."""
        return bool(self.ci_low <= self.truth <= self.ci_high)


@dataclass(frozen=True)
class DataStep:
    """The model's policy on one feature set: its value, and what the last source added to it."""

    features: str
    policy: OfferPolicy
    added: tuple[float, float, float]
    true_added: float


@dataclass(frozen=True)
class OfferStudy:
    """Which offer for whom under a budget: the policies, the budget curve and the value of data."""

    offers: tuple[str, ...]
    budget: float
    n_train: int
    n_eval: int
    arm_counts: dict[str, int]
    policies: dict[str, OfferPolicy]
    share_of_oracle: tuple[float, float, float]
    gap_to_rule: tuple[float, float, float]
    rule: str
    single_offer: str
    curve: pl.DataFrame
    data: tuple[DataStep, ...]
    consent: tuple[float, float, float, float]

    @property
    def true_share_of_oracle(self) -> float:
        """The model policy's true profit as a share of the oracle's."""
        o = self.policies["oracle"].truth
        return self.policies["model"].truth / o if o else float("nan")


def offer_settings(scenario: TargetingScenario) -> Any:
    """The offer world's settings from the scenario (the discount's depth is ``discount``)."""
    w = scenario.world()
    return OfferSettings(discount=scenario.discount, shipping_fee=w.shipping_cost,
                         control_share=scenario.offer_control_share, offers=scenario.offers)


def simulate_offer_table(scenario: TargetingScenario) -> pl.DataFrame:
    """The randomised offer test of ``scenario`` (:func:`~experiments.simulate.offers.simulate_offers`)."""
    return simulate_offers(scenario.world(), offer_settings(scenario))


def _rule_columns(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    cols = {c: frame[c].cast(pl.Float64).to_numpy() for c in ("bought_last_month", "pre_orders",
                                                              "price_sensitivity", "cart_value",
                                                              "cookie_matched", "email_opt_in")}
    cols["age_under_35"] = frame["age_band"].is_in(["18-24", "25-34"]).cast(pl.Float64).to_numpy()
    cols["reached_checkout"] = (frame["funnel_stage"] == "checkout").cast(pl.Float64).to_numpy()
    return cols


def _condition(cols: dict[str, np.ndarray], column: str, op: str, x: float) -> np.ndarray:
    v = cols[column]
    return {"==": v == x, ">": v > x, "<": v < x}[op]


def measure_offers(scenario: TargetingScenario, frame: pl.DataFrame | None = None, *,
                   with_data: bool = True) -> OfferStudy:
    """Fit, assign and judge the offer policies on a randomised offer test (simulated when not given).

    The customers are split at random (``train_share``); on the training part a cross-fitted S-learner
    (gradient boosting of purchase on the features and the arm) predicts each customer's purchase
    probability under every arm, and a regression of order value among buyers their basket; with the
    offers' terms these give each offer's expected incremental profit and spend. The evaluation part
    judges every assignment by its doubly robust estimate (95% interval) beside its true value.
    """
    s = scenario
    settings = offer_settings(s)
    frame = simulate_offer_table(s) if frame is None else frame
    offers, n, e = settings.offers, frame.height, settings.shares
    k = len(offers)
    rng = np.random.default_rng(np.random.SeedSequence(s.seed, spawn_key=(18,)))
    train = np.zeros(n, dtype=bool)
    train[rng.permutation(n)[: round(s.train_share * n)]] = True
    tr, ev = train, ~train
    part = frame.filter(pl.Series(ev))
    arm = frame["arm"].to_physical().to_numpy().astype(np.int64)
    bought = frame["converted"].to_numpy().astype(np.float64)
    value = frame["order_value"].to_numpy()
    profit, spend = frame["profit"].to_numpy(), frame["spend"].to_numpy()
    model_seed = int(np.random.SeedSequence(s.seed, spawn_key=(18, 1)).generate_state(1)[0])
    budget = s.offer_budget / 1000.0
    m = s.margin
    cookie = part["cookie_matched"].cast(pl.Float64).to_numpy()
    media = np.column_stack([media_cost(o, cookie) for o in offers])
    design = design_matrix(frame, OFFER_FEATURES)

    def predict(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per evaluation customer: outcome under each arm (mu), each offer's uplift and spend."""
        fit = fit_arm_models(X[tr], bought[tr], arm[tr], n_arms=k + 1, folds=s.folds, seed=model_seed,
                             X_new=X[ev], learner="s", binary=True)
        assert fit.new is not None
        buyers = tr & (bought > 0)
        basket = np.maximum(response_scores(X[buyers], value[buyers], X[ev], random_state=model_seed), 0.0)
        p = fit.new
        paid = np.column_stack([subsidy(o, settings, basket) for o in offers])
        mu = np.column_stack([p[:, 0] * m * basket,
                              *(p[:, j + 1] * (m * basket - paid[:, j]) - media[:, j] for j in range(k))])
        return mu, mu[:, 1:] - mu[:, :1], media + p[:, 1:] * paid

    y_ev, a_ev = profit[ev], arm[ev]

    def judge(name: str, label: str, assignment: np.ndarray,
              mu: np.ndarray) -> tuple[OfferPolicy, np.ndarray]:
        terms = policy_terms(y_ev, a_ev, assignment, e, mu=mu)
        v = term_value(terms, scale=1000.0)
        true = assignment_value(part, assignment, offers=offers)
        return OfferPolicy(name, label, true.treated_share, v.estimate, v.ci_low, v.ci_high,
                           true.profit_per_1000, true.spend_per_1000, true.by_offer), terms

    mu, uplift, cost = predict(design.X)
    chosen = assign_offers(uplift, cost, budget=budget)
    # the best single offer for everyone, and the best one-line rule, chosen on the training part (IPW)
    tr_terms = {j: policy_terms(profit[tr], arm[tr], np.full(int(tr.sum()), j), e) for j in range(1, k + 1)}
    tr_spend = {j: policy_terms(spend[tr], arm[tr], np.full(int(tr.sum()), j), e) for j in range(1, k + 1)}
    single = max(tr_terms, key=lambda j: float(tr_terms[j].mean()))
    cols_tr, cols_ev = _rule_columns(frame.filter(pl.Series(tr))), _rule_columns(part)
    best_rule, best_value = (single, ()), -np.inf
    for j in range(1, k + 1):
        for a_i, c1 in enumerate(RULE_CONDITIONS):
            for c2 in (None, *RULE_CONDITIONS[a_i + 1:]):
                conds = (c1,) if c2 is None else (c1, c2)
                mask = np.logical_and.reduce([_condition(cols_tr, *c[1:]) for c in conds])
                if float(np.mean(np.where(mask, tr_spend[j], 0.0))) > budget:
                    continue
                val = float(np.mean(np.where(mask, tr_terms[j], 0.0)))
                if val > best_value:
                    best_rule, best_value = (j, conds), val
    rj, rconds = best_rule
    rule_mask = (np.logical_and.reduce([_condition(cols_ev, *c[1:]) for c in rconds]) if rconds
                 else np.ones(part.height, dtype=bool))
    rule_text = (f"{OFFER_WORDS[offers[rj - 1]]} to customers " + " and ".join(c[0] for c in rconds)
                 if rconds else f"{OFFER_WORDS[offers[rj - 1]]} to everyone")
    # likeliest buyers: the common practice, a coupon (the discount when offered, else the best single
    # offer) to those likeliest to buy without one, within the budget
    coupon = offers.index("discount") + 1 if "discount" in offers else single
    likely = np.zeros(part.height, dtype=np.int64)
    order = np.argsort(-mu[:, 0], kind="stable")
    fits = np.cumsum(cost[order, coupon - 1]) <= budget * part.height
    likely[order[fits]] = coupon
    assignments = {
        "model": chosen,
        "segment rule": np.where(rule_mask, rj, 0),
        "everyone": np.full(part.height, single),
        "likeliest buyers": likely,
        "oracle": oracle_assignment(part, budget_per_customer=budget, offers=offers),
    }
    labels = {"model": "uplift model: best offer each",
              "segment rule": f"segment rule: {rule_text}",
              "everyone": f"everyone gets the {OFFER_WORDS[offers[single - 1]]}",
              "likeliest buyers": f"{OFFER_WORDS[offers[coupon - 1]]} to the likeliest buyers",
              "oracle": "oracle: true best offer each"}
    judged = {name: judge(name, labels[name], assignments[name], mu) for name in OFFER_POLICIES}
    policies = {name: pj[0] for name, pj in judged.items()}
    terms = {name: pj[1] for name, pj in judged.items()}
    r = compare_terms(terms["model"], terms["oracle"])
    g = compare_terms(terms["model"], terms["segment rule"], scale=1000.0).difference

    # the budget curve: estimated (with interval) and true, beside the oracle's truth
    full = float(cost[np.arange(part.height), np.argmax(uplift, axis=1)][uplift.max(axis=1) > 0].sum())
    top = max(full / part.height, 2 * budget, 1e-6)
    grid = np.linspace(0.0, top, 21)
    est = budget_curve(uplift, y_ev, a_ev, e, spend=cost, mu=mu, budgets=grid)
    truth = [assignment_value(part, assign_offers(uplift, cost, budget=b), offers=offers).profit_per_1000
             for b in grid]
    oracle = [assignment_value(part, oracle_assignment(part, budget_per_customer=b, offers=offers),
                               offers=offers).profit_per_1000 for b in grid]
    curve = est.select((pl.col("budget") * 1000).alias("budget"), "treated_share",
                       *(pl.col(c) * 1000 for c in ("estimate", "ci_low", "ci_high"))).with_columns(
        truth=pl.Series(truth), oracle=pl.Series(oracle))

    data: list[DataStep] = []
    consent = (float("nan"),) * 4
    if with_data:
        prev: tuple[np.ndarray, float] | None = None
        for label, sources in DATA_STEPS:
            cols = [c for src in sources for c in FEATURE_SOURCES[src]]
            X = design.X[:, _columns(design, cols)]
            _mu_s, u_s, c_s = (mu, uplift, cost) if len(sources) == len(FEATURE_SOURCES) else predict(X)
            pol, t_s = judge(label, label, assign_offers(u_s, c_s, budget=budget), mu)
            if prev is None:
                added, true_added = (pol.estimate, pol.ci_low, pol.ci_high), pol.truth
            else:
                d = compare_terms(t_s, prev[0], scale=1000.0).difference
                added, true_added = (d.estimate, d.ci_low, d.ci_high), pol.truth - prev[1]
            data.append(DataStep(label, pol, added, true_added))
            prev = (t_s, pol.truth)
        lost = rng.random(n) < s.consent_loss
        X = design.X.copy()
        browse = _columns(design, list(FEATURE_SOURCES["browsing"]))
        X[np.ix_(lost, browse)] = np.nan
        X = X[:, ~np.all(np.isnan(X), axis=0)]  # with every customer's browsing lost, no browsing column
        _mu_c, u_c, c_c = predict(X)
        pol, t_c = judge("consent", "consent lost", assign_offers(u_c, c_c, budget=budget), mu)
        d = compare_terms(terms["model"], t_c, scale=1000.0).difference
        consent = (d.estimate, d.ci_low, d.ci_high, policies["model"].truth - pol.truth)
    counts = np.bincount(a_ev, minlength=k + 1)
    return OfferStudy(
        offers=offers, budget=s.offer_budget, n_train=int(tr.sum()), n_eval=int(ev.sum()),
        arm_counts={a: int(c) for a, c in zip(settings.arms, counts, strict=True)}, policies=policies,
        share_of_oracle=(r.ratio, r.ratio_ci_low, r.ratio_ci_high),
        gap_to_rule=(g.estimate, g.ci_low, g.ci_high),
        rule=rule_text, single_offer=offers[single - 1], curve=curve, data=tuple(data), consent=consent)



def _columns(design: Any, features: list[str]) -> list[int]:
    """Indices of the design's columns that encode ``features``."""
    wanted = set(features)
    return [i for i, name in enumerate(design.names) if name.split("=", 1)[0] in wanted]
