"""The remarketing study layer: analysis against truth, verdict wording, tables and charts."""

from __future__ import annotations

import json

import polars as pl
import pytest

from experiments.simulate.remarketing import simulate_remarketing
from experiments.simulate.truth import frequency_curve, funnel_summary, true_effects
from experiments.stats.effects import proportion_effect
from experiments.stats.sufficient import gather
from experiments.studies.remarketing import result as study
from experiments.studies.remarketing.scenario import RemarketingScenario


@pytest.fixture(scope="module")
def run() -> tuple[RemarketingScenario, pl.DataFrame, study.RemarketingAnalysis]:
    s = RemarketingScenario.from_params({"n_customers": 60_000, "seed": 12})
    frame = simulate_remarketing(s)
    truth = true_effects(frame, s.arms)
    return s, frame, study.measure(frame, arms=s.arms, shares=s.shares, truth=truth)


def test_itt_effect_equals_a_direct_two_proportion_test(run) -> None:  # type: ignore[no-untyped-def]
    s, frame, a = run
    table = gather(frame, arm="arm", metrics=["converted"])
    for arm in s.treatment_arms:
        ref = proportion_effect(table.stats(arm, "converted"), table.stats("holdout", "converted"))
        got = a.effect("converted", arm)
        assert got.estimate == pytest.approx(ref.estimate, abs=1e-15)
        assert (got.ci_low, got.ci_high) == pytest.approx((ref.ci_low, ref.ci_high), rel=1e-12)


def test_exposed_effect_uses_ghost_exposed_holdout(run) -> None:  # type: ignore[no-untyped-def]
    s, frame, a = run
    arm = s.treatment_arms[0]
    e = a.effect("converted", arm, exposed=True)
    assert e.n_arm == frame.filter((pl.col("arm") == arm) & pl.col("exposed")).height
    assert e.n_control == frame.filter((pl.col("arm") == "holdout") & pl.col("exposed")).height
    # the exposed effect is diluted less than the ITT one
    assert e.estimate > a.effect("converted", arm).estimate * 0.9


def test_economics_totals_match_definitions(run) -> None:  # type: ignore[no-untyped-def]
    s, frame, a = run
    for arm in s.treatment_arms:
        eco = a.economics_of(arm)
        assert eco.cost == pytest.approx(frame.filter(pl.col("arm") == arm)["cost"].sum())
        conv = a.effect("converted", arm)
        assert eco.incremental_conversions == pytest.approx(conv.estimate * conv.n_arm)


def test_estimate_vs_truth_has_every_measure_and_mostly_covers(run) -> None:  # type: ignore[no-untyped-def]
    _, _, a = run
    cmp = a.estimate_vs_truth()
    assert cmp.height == 6 * len(a.treatment_arms)
    assert cmp["covered"].sum() >= cmp.height - 2  # 95% intervals: a miss or two is possible, not more
    assert (cmp["low"] <= cmp["estimate"]).all() and (cmp["estimate"] <= cmp["high"]).all()


def test_headline_states_numbers_and_is_json_ready(run) -> None:  # type: ignore[no-untyped-def]
    _, _, a = run
    head, details, tone = a.headline()
    assert tone in {"good", "bad", "neutral"}
    assert "95% interval" in head and "$" in head
    assert any("intervals contain the true value" in d for d in details)
    json.dumps(a.headline_numbers())
    assert study.headline_figures(a).count("\n") == len(a.treatment_arms) - 1


def test_tone_follows_the_profit_interval() -> None:
    # a strong e-mail reminder with steady order values pays back; costly ads with no true lift do not
    base = {"n_customers": 60_000, "seed": 5, "arm_shares": "holdout:0.5,generic:0.5"}
    good = RemarketingScenario.from_params(
        {**base, "purchase_lift": 1.0, "channels": "email", "order_value_sigma": 0.5}
    )
    bad = RemarketingScenario.from_params(
        {**base, "purchase_lift": 0.0, "cpm_social": 200.0, "channels": "social"}
    )
    tones = []
    for s in (good, bad):
        f = simulate_remarketing(s)
        tones.append(study.measure(f, arms=s.arms, shares=s.shares).headline()[2])
    assert tones == ["good", "bad"]


def test_small_sample_coverage_of_conversion_effect() -> None:
    hits = 0
    reps = 60
    for seed in range(reps):
        s = RemarketingScenario.from_params(
            {"n_customers": 20_000, "seed": 1000 + seed, "arm_shares": "holdout:0.5,dynamic:0.5"}
        )
        f = simulate_remarketing(s)
        truth = true_effects(f, s.arms).row(0, named=True)
        e = study.measure(f, arms=s.arms, shares=s.shares).effect("converted", "dynamic")
        hits += e.ci_low <= truth["ate_converted"] <= e.ci_high
    assert hits / reps >= 0.85  # nominal 95%; 60 replications leave room for chance, not for bias


def test_tables_and_charts_build(run) -> None:  # type: ignore[no-untyped-def]
    s, frame, a = run
    assert study.truth_table(a).columns[:3] == ["arm", "measure", "estimate"]
    assert study.itt_vs_exposed(a).height == 2 * len(a.treatment_arms)
    assert any("Sample ratio" in line for line in study.data_checks(a))
    assert len(study.assumptions(s)) >= 6
    curve = frequency_curve(s, caps=(1, 4, 20), n_customers=5_000)
    charts = [
        a.conversion_chart(),
        a.truth_chart(),
        study.funnel_chart(funnel_summary(frame), audience=s.audience),
        study.frequency_chart(curve, chosen_cap=s.frequency_cap),
    ]
    for chart in charts:
        spec = chart.to_dict()
        assert spec["title"]
        assert json.loads(json.dumps(spec)) == spec


def test_missing_arm_is_a_clear_error(run) -> None:  # type: ignore[no-untyped-def]
    from experiments.errors import DataError

    s, frame, _ = run
    with pytest.raises(DataError, match="generic"):
        study.measure(frame, arms=(*s.arms, "generic"), shares={**s.shares, "generic": 0.0})


def test_incentive_is_priced_against_its_base_arm(run) -> None:  # type: ignore[no-untyped-def]
    _, frame, a = run
    (c,) = a.incentives
    assert (c.base, c.incentive) == ("dynamic", "dynamic_incentive")
    rows = {arm: frame.filter(pl.col("arm") == arm) for arm in (c.base, c.incentive)}
    per_customer = {arm: (r["margin"] - r["cost"]).mean() for arm, r in rows.items()}
    assert c.profit_per_1000 == pytest.approx(1000 * (per_customer[c.incentive] - per_customer[c.base]))
    assert c.profit_per_1000_low < c.profit_per_1000 < c.profit_per_1000_high
    assert c.conversions_per_1000.estimate > 0  # the discount buys purchases...
    assert c.true_profit_per_1000 < 0  # ...but, paid on orders that would have happened anyway, loses money
    assert c.profit_per_1000_low <= c.true_profit_per_1000 <= c.profit_per_1000_high
    assert any("Adding the incentive to dynamic" in d for d in a.headline()[1])
