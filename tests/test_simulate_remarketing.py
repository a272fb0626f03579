"""Tests of the remarketing simulator, its truth helpers and ``experiments simulate``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from experiments.simulate.blocks import CHUNK_SIZE
from experiments.simulate.remarketing import POTENTIAL, simulate_remarketing
from experiments.simulate.truth import frequency_curve, funnel_summary, true_effects
from experiments.studies.remarketing.scenario import RemarketingScenario

ALL_ARMS = "holdout:0.2,generic:0.2,dynamic:0.2,generic_incentive:0.2,dynamic_incentive:0.2"


@pytest.fixture(scope="module")
def scenario() -> RemarketingScenario:
    return RemarketingScenario.from_params({"n_customers": 100_000, "seed": 11, "arm_shares": ALL_ARMS})


@pytest.fixture(scope="module")
def frame(scenario) -> pl.DataFrame:
    return simulate_remarketing(scenario)


def _parquet(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()


def test_columns_and_dtypes(frame, scenario):
    schema = frame.schema
    assert frame.height == scenario.n_customers
    assert frame["customer_id"].to_list()[:3] == [0, 1, 2]
    assert frame["customer_id"].is_sorted() and frame["customer_id"].dtype == pl.Int64
    assert schema["arm"] == pl.Enum(list(scenario.arms))
    for name in ("email_opt_in", "sms_opt_in", "social_account", "cookie_matched", "reachable",
                 "exposed"):
        assert schema[name] == pl.Boolean
    for name in ("converted", "returned", "unsubscribed"):
        assert schema[name] == pl.Int8
    for name in ("cost", "revenue", "margin", "pre_revenue"):
        assert schema[name] == pl.Float64
    assert schema["exposures"] == pl.Int16
    for arm in scenario.arms:
        for name in POTENTIAL:
            assert f"{name}__{arm}" in schema
    for arm in scenario.treatment_arms:
        assert schema[f"cate_converted__{arm}"] == pl.Float32
        assert schema[f"cate_margin__{arm}"] == pl.Float32
    assert "cate_converted__holdout" not in schema
    assert schema["price_sensitivity"] == pl.Float32 and schema["p_converted__holdout"] == pl.Float32
    assert schema["cart_value"] == pl.Float32
    assert schema["uplift_group"] == pl.Enum(["persuadable", "sure_thing", "lost_cause", "do_not_disturb"])
    assert set(frame["audience"].unique().to_list()) == {"cart_abandoners"}
    # a triggered flow: recent visitors enter on the day of the visit
    assert (frame["days_since_visit"] == 0).all()


def test_arm_shares_within_binomial_tolerance(frame, scenario):
    n = frame.height
    counts = dict(frame["arm"].value_counts().iter_rows())
    for arm, share in scenario.shares.items():
        sd = np.sqrt(n * share * (1 - share))
        assert abs(counts[arm] - n * share) < 4 * sd, arm


def test_reachability_and_costs(frame, scenario):
    holdout = frame.filter(pl.col("arm") == "holdout")
    assert holdout["cost"].sum() == 0 and frame["cost__holdout"].sum() == 0
    assert holdout["exposed"].any()  # the ghost-ad flag: would-have-been exposed
    unreachable = frame.filter(~pl.col("reachable"))
    assert unreachable.height > 0
    for arm in scenario.arms:
        assert unreachable[f"exposures__{arm}"].sum() == 0
    assert (frame["exposed"] == (frame["exposures"] > 0)).all()
    assert frame["exposures"].max() <= scenario.frequency_cap
    treated = frame.filter(pl.col("arm") != "holdout")
    assert ((treated["cost"] > 0) == treated["exposed"]).all()


def test_lost_cookie_means_no_display_or_social():
    s = RemarketingScenario.from_params({"n_customers": 20_000, "channels": "display,social"})
    f = simulate_remarketing(s)
    lost = f.filter(~pl.col("cookie_matched"))
    assert lost.height > 0 and not lost["reachable"].any() and lost["exposures__dynamic"].sum() == 0


def test_observed_equal_potential_of_assigned_arm(frame, scenario):
    for name in POTENTIAL:
        expected = pl.coalesce(
            [pl.when(pl.col("arm") == a).then(pl.col(f"{name}__{a}")) for a in scenario.arms]
        )
        assert frame.select((pl.col(name) == expected).all()).item(), name


def test_same_seed_identical_whatever_blocks_and_workers():
    s = RemarketingScenario.from_params({"n_customers": 3 * CHUNK_SIZE + 1_000, "seed": 5})  # 4 chunks
    reference = _parquet(simulate_remarketing(s, block_size=CHUNK_SIZE))
    assert _parquet(simulate_remarketing(s, block_size=2 * CHUNK_SIZE)) == reference
    assert _parquet(simulate_remarketing(s, block_size=10**7)) == reference
    assert _parquet(simulate_remarketing(s, block_size=CHUNK_SIZE, workers=2)) == reference


def test_different_seed_differs(scenario, frame):
    other = simulate_remarketing(scenario.replace(seed=12))
    assert not other.equals(frame)
    assert simulate_remarketing(scenario).equals(frame)


def test_true_lift_among_exposed_is_plausible():
    # Johnson, Lewis & Nubbemeyer (2017): +10.5% purchases, +17.2% visits among would-be exposed.
    s = RemarketingScenario.from_params(
        {"n_customers": 300_000, "seed": 3, "arm_shares": "holdout:0.5,generic:0.5"}
    )
    exposed = simulate_remarketing(s).filter(pl.col("exposed"))
    base = exposed["converted__holdout"].mean()
    lift = exposed["converted__generic"].mean() / base - 1
    visits = exposed["returned__generic"].mean() / exposed["returned__holdout"].mean() - 1
    assert 0.05 < base < 0.10  # baseline 14-day conversion of cart abandoners
    assert 0.05 < lift < 0.20
    assert 0.08 < visits < 0.30


def test_mechanisms(frame):
    # Loyal customers barely move, or are put off (Blake et al. 2015); new ones move most.
    by_segment = frame.group_by("segment").agg(pl.col("cate_converted__generic").mean().alias("ate"))
    ate = dict(by_segment.iter_rows())
    assert ate["new"] > 3 * abs(ate["loyal"]) and ate["loyal"] < 0.1 * ate["new"]
    # Discounts cost margin on orders that would have happened anyway.
    sure = frame.filter(
        (pl.col("converted__holdout") == 1) & (pl.col("converted__generic_incentive") == 1)
        & pl.col("exposed")
    )
    assert sure.height > 0
    assert (sure["margin__generic_incentive"] < sure["margin__holdout"]).all()
    # Pre-period revenue predicts outcome revenue (a CUPED covariate).
    assert frame.select(pl.corr("pre_revenue", "revenue__holdout")).item() > 0.1
    # Heavy-tailed spend: per-person revenue coefficient of variation well above 3.
    revenue = frame["revenue__holdout"]
    assert revenue.std() / revenue.mean() > 3


def test_true_effects(frame, scenario):
    truth = true_effects(frame, scenario.arms)
    assert truth["arm"].to_list() == list(scenario.treatment_arms)
    assert truth["n_arm"].sum() == frame.filter(pl.col("arm") != "holdout").height
    row = truth.row(by_predicate=pl.col("arm") == "dynamic", named=True)
    mine = frame.filter(pl.col("arm") == "dynamic")
    assert row["cost"] == pytest.approx(mine["cost"].sum())
    assert row["incremental_profit"] == pytest.approx(row["incremental_margin"] - row["cost"])
    assert row["iroas"] == pytest.approx(row["incremental_revenue"] / row["cost"])
    assert row["ate_converted"] == pytest.approx(
        (frame["converted__dynamic"].cast(pl.Float64) - frame["converted__holdout"]).mean()
    )
    assert row["ate_converted"] > 0 and row["att_converted_exposed"] > row["ate_converted"]


def test_funnel_summary_for_all_audiences():
    s = RemarketingScenario.from_params({"n_customers": 50_000, "audience": "all"})
    summary = funnel_summary(simulate_remarketing(s))
    assert summary.height <= 30
    everyone = summary.filter(pl.col("audience") == "all")
    assert everyone["stage"].to_list()[0] == "visit" and everyone["share"][0] == 1.0
    assert everyone["customers"].is_sorted(descending=True)
    carts = summary.filter(pl.col("audience") == "cart_abandoners")
    checkout = carts.filter(pl.col("stage") == "checkout")["share"].item()
    assert 0.30 < checkout < 0.42  # 25 of 70 abandoners reached checkout (Baymard: 70% abandon)


def test_frequency_curve_turns_down_past_annoyance():
    s = RemarketingScenario.from_params({"seed": 9, "arm_shares": "holdout:0.5,generic:0.5"})
    curve = frequency_curve(s, [1, 2, 4, 6, 10, 15, 20], n_customers=60_000)
    profit = curve.filter(pl.col("arm") == "generic")["incremental_profit_per_1000"].to_list()
    peak = int(np.argmax(profit))
    assert 0 < peak < len(profit) - 1
    assert profit[-1] < profit[peak] - 50
    unsub = curve.filter(pl.col("arm") == "generic")["unsubscribe_rate"].to_list()
    assert unsub[-1] > unsub[0]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "experiments.cli", "simulate", "remarketing", *args],
        capture_output=True, text=True, cwd=cwd, timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def test_cli_writes_parquet(tmp_path):
    out = tmp_path / "sim.parquet"
    done = _cli("-p", "audience", "all", "-p", "frequency_cap", "5", "--n-customers", "3000",
                "--seed", "4", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(out)
    table = pl.read_parquet(out)
    expected = simulate_remarketing(
        RemarketingScenario.from_params({"n_customers": 3000, "seed": 4, "audience": "all",
                                         "frequency_cap": 5})
    )
    assert table.equals(expected)
    assert [p.name for p in tmp_path.iterdir()] == ["sim.parquet"]


@pytest.mark.parametrize(
    "args",
    [
        ("--n-customers", "-3"),
        ("-p", "channels", "display,tv"),
        ("-p", "arm_shares", "holdout:0.5,dynamic:0.6"),
        ("-p", "colour", "blue"),
    ],
)
def test_cli_bad_input_exits_2_without_file(tmp_path, args):
    out = tmp_path / "bad.parquet"
    done = _cli(*args, "--out", str(out), cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "error" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_missing_folder(tmp_path):
    done = _cli("--n-customers", "10", "--out", str(tmp_path / "nope" / "x.parquet"), cwd=tmp_path)
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_response_helpers_equal_the_numpy_calls_they_replace():
    from experiments.simulate.campaign import _if_converted, _unit

    rng = np.random.default_rng(8)
    value = np.round(rng.normal(0, 3, 10_000), 2)
    value[:50] = -0.0
    converted = rng.random(10_000) < 0.4
    got = _if_converted(value, converted)
    assert np.array_equal(got, np.where(converted, value, 0.0))
    assert not np.signbit(got[got == 0]).any()  # no -0.0
    x = rng.normal(0.5, 1, 10_000)
    assert np.array_equal(_unit(x.copy()), np.clip(x, 0.0, 1.0))
