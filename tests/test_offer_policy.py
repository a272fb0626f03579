"""Which offer for whom: the offers' mechanisms and truth, the multi-arm policy against a brute-force oracle,
the doubly robust and IPW values against references, and the targeting study's offer section."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

from experiments.errors import DataError, ParameterError
from experiments.models.uplift.evaluation import compare_policies
from experiments.models.uplift.offers import (
    assign_offers,
    budget_curve,
    compare_terms,
    fit_arm_models,
    policy_terms,
    term_value,
)
from experiments.simulate.offers import (
    OFFERS,
    OfferSettings,
    assignment_value,
    oracle_assignment,
    simulate_offers,
)
from experiments.studies.targeting.scenario import OFFER_NAMES, TargetingScenario

WORLD = TargetingScenario.from_params({}).world()


@pytest.fixture(autouse=True)
def _one_openmp_thread():  # type: ignore[no-untyped-def]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def _truth(frame: pl.DataFrame, kind: str) -> np.ndarray:
    return np.column_stack([frame[f"cate_{kind}__{o}"].to_numpy() for o in OFFERS])


# ------------------------------------------------------------------------------------ the world


def test_offer_names_agree_and_settings_are_checked() -> None:
    assert OFFER_NAMES == OFFERS
    for change, name in (({"discount": 1.2}, "discount"), ({"control_share": 0.0}, "control_share"),
                         ({"offers": ("coupon",)}, "offers"), ({"shipping_fee": -1.0}, "shipping_fee")):
        with pytest.raises(ParameterError, match=repr(name)):
            OfferSettings(**change)  # type: ignore[arg-type]


def test_table_is_randomised_and_the_truth_matches_the_outcomes() -> None:
    frame = simulate_offers(WORLD, n_customers=40_000, seed=3)
    assert frame.equals(simulate_offers(WORLD, n_customers=40_000, seed=3, block_size=7_000))
    counts = frame["arm"].value_counts().sort("arm")["count"].to_numpy()
    assert sps.chisquare(counts, OfferSettings().shares * frame.height).pvalue > 0.001
    for offer in OFFERS:
        # each customer's realised potential profit difference averages to the true expected effect
        diff = (frame[f"profit__{offer}"] - frame["profit__control"]).to_numpy()
        se = diff.std(ddof=1) / np.sqrt(diff.size)
        assert abs(diff.mean() - frame[f"cate_profit__{offer}"].mean()) < 4 * se, offer
    # observed profit is the potential profit of the arm each customer was randomised to
    for arm in ("control", *OFFERS):
        part = frame.filter(pl.col("arm") == arm)
        assert np.allclose(part["profit"].to_numpy(), part[f"profit__{arm}"].to_numpy())


def test_discount_depth_moves_its_truth_with_an_interior_profit_optimum() -> None:
    depths = [0.0, 0.05, 0.10, 0.15, 0.25, 0.35]
    profit, bought, paid_on_sure = [], [], []
    for d in depths:
        f = simulate_offers(WORLD, OfferSettings(discount=d), n_customers=20_000, seed=11)
        profit.append(f["cate_profit__discount"].mean())
        bought.append(f["cate_converted__discount"].mean())
        # spend minus what incremental purchases alone would cost: the subsidy to sure things
        paid_on_sure.append(f.select(pl.col("cate_spend__discount") - 0.02).to_series().mean()
                            - d * f.select(pl.col("cate_converted__discount")).to_series().mean() * 90.0)
    assert all(b2 > b1 for b1, b2 in itertools.pairwise(bought))  # deeper discounts sell more
    best = int(np.argmax(profit))
    assert 0 < best < len(depths) - 1  # ... but profit peaks at an interior depth
    assert profit[best] > profit[0] + 0.3 and profit[-1] < 0
    assert paid_on_sure[0] == pytest.approx(0.0, abs=1e-9) and paid_on_sure[2] > 0.5


def test_free_shipping_and_dynamic_ads_have_their_own_heterogeneity() -> None:
    f = simulate_offers(WORLD, n_customers=30_000, seed=2)
    small = f["cart_value"] < 50
    lift = f["cate_converted__free_shipping"]
    assert lift.filter(small).mean() > 1.5 * lift.filter(~small).mean()  # small baskets care most
    dyn = f["cate_converted__dynamic_ad"]
    assert dyn.filter(~f["cookie_matched"]).abs().max() == 0.0  # no cookie, no ad
    young = f["age_band"].is_in(["18-24", "25-34"]) & f["cookie_matched"]
    old = f["age_band"].is_in(["55-64", "65+"]) & f["cookie_matched"]
    assert dyn.filter(young).mean() > 2 * dyn.filter(old).mean()
    assert f.filter(pl.col("bought_last_month"))["cate_profit__discount"].mean() < \
        f.filter(~pl.col("bought_last_month"))["cate_profit__discount"].mean()  # the subsidy to sure things


# ------------------------------------------------------------------------------------ the policy


def _brute_force(profit: np.ndarray, spend: np.ndarray, budget: float | None) -> float:
    """Best total true profit over every assignment of one offer or none to each customer."""
    n, k = profit.shape
    p = np.hstack([np.zeros((n, 1)), profit])
    c = np.hstack([np.zeros((n, 1)), spend])
    combos = np.array(list(itertools.product(range(k + 1), repeat=n)))
    rows = np.arange(n)
    total = p[rows, combos].sum(axis=1)
    if budget is not None:
        total = np.where(c[rows, combos].sum(axis=1) <= budget * n + 1e-9, total, -np.inf)
    return float(total.max())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_policy_against_a_brute_force_oracle_on_a_tiny_world(seed: int) -> None:
    tiny = simulate_offers(WORLD, n_customers=7, seed=seed)
    profit, spend = _truth(tiny, "profit"), _truth(tiny, "spend")
    # without a budget, the best offer each (fed the truth) is the best of all 5^7 assignments
    best = assign_offers(profit, spend)
    assert np.array_equal(best, oracle_assignment(tiny))
    value = assignment_value(tiny, best).profit_per_1000 * 7 / 1000
    assert value == pytest.approx(_brute_force(profit, spend, None), rel=1e-12)
    # with a budget, the greedy assignment spends within it and cannot beat the brute-force optimum;
    # with a budget that covers every best offer it is that optimum
    for budget in (0.2, 0.6, 1.5):
        a = assign_offers(profit, spend, budget=budget)
        v = assignment_value(tiny, a)
        assert v.spend_per_1000 / 1000 <= budget + 1e-9
        assert v.profit_per_1000 * 7 / 1000 <= _brute_force(profit, spend, budget) + 1e-9
        assert np.array_equal(a, oracle_assignment(tiny, budget_per_customer=budget))
    full = float(spend[np.arange(7), np.argmax(profit, axis=1)].sum()) / 7 + 1e-6
    a = assign_offers(profit, spend, budget=full)
    assert assignment_value(tiny, a).profit_per_1000 * 7 / 1000 == pytest.approx(
        _brute_force(profit, spend, full), rel=1e-12)


def test_ipw_value_matches_the_two_arm_comparison_and_the_difference_of_means() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    t = rng.random(n) < 0.4
    x = rng.random(n)
    y = rng.normal(1 + t * (x - 0.3), 2)
    a, b = x > 0.3, x > 0.6
    ta = policy_terms(y, t.astype(np.int64), a.astype(np.int64), [0.6, 0.4])
    tb = policy_terms(y, t.astype(np.int64), b.astype(np.int64), [0.6, 0.4])
    ref = compare_policies(y, t, a, b, propensity=0.4)  # the two-arm code, itself checked elsewhere
    c = compare_terms(ta, tb)
    assert c.difference.estimate == pytest.approx(ref.estimate, rel=1e-12)
    assert c.difference.se == pytest.approx(ref.se, rel=1e-12)
    assert (c.ratio, c.ratio_ci_low, c.ratio_ci_high) == pytest.approx(
        (ref.ratio, ref.ratio_ci_low, ref.ratio_ci_high), rel=1e-12)
    # with each arm's observed share as its probability, treating everyone is the difference of means,
    # as scipy's Welch test computes it
    arm = rng.integers(0, 3, n)
    z = rng.normal(arm * 0.5, 1)
    e = np.bincount(arm) / n
    v = term_value(policy_terms(z, arm, np.full(n, 2), e))
    welch = sps.ttest_ind(z[arm == 2], z[arm == 0], equal_var=False)
    assert v.estimate == pytest.approx(z[arm == 2].mean() - z[arm == 0].mean(), rel=1e-12)
    # doubly robust with the true arm means: unbiased, narrower than IPW (whose terms carry the arms'
    # levels), and as wide as Welch's difference of means
    mu = np.tile([0.0, 0.5, 1.0], (n, 1))
    dr = term_value(policy_terms(z, arm, np.full(n, 2), e, mu=mu))
    assert abs(dr.estimate - 1.0) < 3 * dr.se and dr.se < v.se
    assert dr.se == pytest.approx(abs(v.estimate / welch.statistic), rel=0.03)


def test_budget_curve_is_the_greedy_policy_at_each_budget() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    uplift = rng.normal(0.2, 1, (n, 3))
    spend = rng.uniform(0.1, 2, (n, 3))
    arm = rng.integers(0, 4, n)
    y = rng.normal(0, 1, n)
    e = np.full(4, 0.25)
    curve = budget_curve(uplift, y, arm, e, spend=spend, budgets=[0.0, 0.3, 1.0, 50.0])
    for row in curve.iter_rows(named=True):
        a = assign_offers(uplift, spend, budget=row["budget"])
        v = term_value(policy_terms(y, arm, a, e))
        assert row["treated_share"] == pytest.approx(np.mean(a > 0))
        assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx(
            (v.estimate, v.ci_low, v.ci_high), rel=1e-9, abs=1e-12)
    assert curve["treated_share"].is_sorted()
    with pytest.raises(ParameterError, match="'budgets'"):
        budget_curve(uplift, y, arm, e, budgets=[-1.0])
    with pytest.raises(DataError, match="arm codes"):
        policy_terms(y, arm + 5, np.zeros(n, dtype=np.int64), e)


@pytest.mark.parametrize("learner", ["s", "t"])
def test_arm_models_recover_each_arms_effect(learner: str) -> None:
    rng = np.random.default_rng(7)
    n = 6000
    X = rng.random((n, 3))
    arm = rng.integers(0, 3, n)
    effect = np.column_stack([np.zeros(n), 2 * X[:, 0], -2 * X[:, 1]])
    y = X[:, 2] + effect[np.arange(n), arm] + rng.normal(0, 0.3, n)
    fit = fit_arm_models(X, y, arm, n_arms=3, folds=2, seed=0, X_new=X[:500], learner=learner)
    for j in (1, 2):
        assert np.corrcoef(fit.uplift()[:, j - 1], effect[:, j])[0, 1] > 0.9
        assert np.corrcoef(fit.uplift("new")[:, j - 1], effect[:500, j])[0, 1] > 0.9
    with pytest.raises(DataError, match="arm 2 has"):
        fit_arm_models(X[:100], y[:100], np.where(np.arange(100) < 3, 2, arm[:100] % 2), n_arms=3, folds=2)


# ------------------------------------------------------------------------------------ the study


@pytest.fixture(scope="module")
def offers():  # type: ignore[no-untyped-def]
    from experiments.studies.targeting.numbers import measure_offers

    scenario = TargetingScenario.from_params({"n_customers": 20_000, "seed": 4})
    return scenario, measure_offers(scenario)


def test_study_offer_policies_against_the_truth(offers) -> None:  # type: ignore[no-untyped-def]
    scenario, o = offers
    assert o.n_train + o.n_eval == 20_000 and sum(o.arm_counts.values()) == o.n_eval
    pol = o.policies
    assert pol["oracle"].truth >= max(p.truth for p in pol.values()) - 1e-9
    for name in ("model", "oracle", "likeliest buyers"):  # the budgeted policies spend within the budget
        assert pol[name].true_spend <= scenario.offer_budget * 1.15, name
    assert pol["model"].truth > pol["likeliest buyers"].truth
    assert pol["model"].truth > 0.4 * pol["oracle"].truth
    assert o.share_of_oracle[1] < o.share_of_oracle[0] < o.share_of_oracle[2]
    assert o.rule and o.curve.height == 21 and o.curve["truth"][0] == 0.0
    assert (o.curve["oracle"] >= o.curve["truth"] - 1e-9).all() and o.curve["oracle"].is_sorted()
    # value of data: the three steps add up to the full model; losing browsing data costs money (truth)
    assert [d.features for d in o.data] == ["purchase history", "plus browsing", "plus demographics"]
    assert o.data[-1].policy.truth == pol["model"].truth
    assert sum(d.true_added for d in o.data) == pytest.approx(pol["model"].truth)
    assert o.data[1].true_added > 0  # browsing data is worth money
    c = o.consent  # (at this size the cost of losing it is within noise; at the defaults it is positive)
    assert c[1] < c[0] < c[2] and np.isfinite(c[3])


def test_scenario_refuses_a_whole_discount_and_too_few_offers_up_front() -> None:
    """A discount of 1 (a free product) and a single offer are refused by the declaration, naming the rule."""
    from experiments.studies.targeting.scenario import TargetingScenario

    with pytest.raises(ParameterError, match=r"'discount'.*below 1"):
        TargetingScenario.from_params({"discount": 1.0})
    with pytest.raises(ParameterError, match=r"'offers'.*at least 2 of"):
        TargetingScenario.from_params({"offers": "reminder"})
    assert TargetingScenario.from_params({"discount": 1.0, "offers": "reminder,dynamic_ad"}).discount == 1.0
