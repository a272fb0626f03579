"""Channels that work together: the display synergy, its truth, the factorial holdout and its contrasts."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from experiments.errors import ParameterError
from experiments.formatting import signed_money
from experiments.simulate.journeys import (
    draw_world,
    factorial_holdout_table,
    interaction_truth,
    play,
    subsets_off,
)
from experiments.studies.omnichannel import result as study
from experiments.studies.omnichannel.numbers import coordination
from experiments.studies.omnichannel.scenario import OmnichannelScenario

FACTORS = ("display", "search_nonbrand", "email")
N = 60_000


def _truth(n: int = N, **params: object) -> pl.DataFrame:
    s = OmnichannelScenario.from_params({"n_customers": n, "seed": 7, **params})
    return interaction_truth(subsets_off(draw_world(s), s.factorial_channels), s.factorial_channels)


def _value(truth: pl.DataFrame, term: str, column: str = "conversions") -> float:
    return float(truth.filter(pl.col("term") == term)[column][0])


# --------------------------------------------------------------------------- the mechanism and its truth


def test_no_synergy_leaves_the_world_as_it_was() -> None:
    """``display_synergy`` 1 changes nothing: the same purchases, to the customer, as a world whose
    synergy reaches no channel."""
    base = dict(n_customers=20_000, seed=4, display_synergy=1.0)
    one = play(draw_world(OmnichannelScenario.from_params(base)))
    none = play(draw_world(OmnichannelScenario.from_params({**base, "display_synergy": 3.0,
                                                               "synergy_channels": ""})))
    assert np.array_equal(one.purchased, none.purchased) and one.revenue == none.revenue


def test_without_synergy_the_one_channel_holdouts_add_up_to_the_plan() -> None:
    """Channels that add up in the hazard: the one-channel holdouts sum to the plan's total within 5%
    (200,000 customers; seeds 7, 8, 9 give 3.1%, 4.5%, 2.4%). What is left is the saturation of the
    purchase probability, which makes channels slight substitutes: the holdouts understate, the pairs'
    interactions sum below 0."""
    truth = _truth(n=200_000, display_synergy=1.0)
    total, one = _value(truth, "total"), _value(truth, "one at a time")
    assert 0 <= total - one <= 0.05 * total
    assert truth.filter(pl.col("kind") == "pair")["conversions"].sum() < 0


def test_synergy_makes_one_channel_holdouts_overstate_the_plan() -> None:
    """Display raising search and e-mail: removing display also removes the search and e-mail sales it
    raised, and removing either of those the sales display raised in them, so the summed holdouts count
    the joint sales twice and overstate the plan; the display pairs' interactions are positive."""
    none, some = _truth(display_synergy=1.0), _truth(display_synergy=2.5)
    gap = {k: _value(t, "one at a time") - _value(t, "total") for k, t in (("none", none), ("some", some))}
    assert gap["some"] > gap["none"] + 50
    for pair in ("display x search_nonbrand", "display x email"):
        assert _value(some, pair) > 20
        assert _value(some, pair, "profit") > _value(none, pair, "profit")


def test_sweeping_synergy_moves_the_display_pairs_up() -> None:
    """The sweep figure of the lever: each display pair's true interaction rises with the synergy, and
    so does the plan's total."""
    levels = (1.0, 1.4, 2.0, 3.0)
    truths = [_truth(display_synergy=v) for v in levels]
    for pair in ("display x search_nonbrand", "display x email", "total"):
        values = [_value(t, pair) for t in truths]
        assert all(b > a for a, b in itertools.pairwise(values)), (pair, values)


def test_a_longer_synergy_window_raises_the_display_e_mail_pair() -> None:
    values = [_value(_truth(display_synergy=2.0, synergy_window_days=w), "display x email")
              for w in (0.5, 3.0, 14.0)]
    assert all(b > a for a, b in itertools.pairwise(values)), values


def test_synergy_parameters_are_checked() -> None:
    with pytest.raises(ParameterError, match="synergy_channels"):
        OmnichannelScenario.from_params({"synergy_channels": "display,email"})
    with pytest.raises(ParameterError, match="factorial_channels"):
        OmnichannelScenario.from_params({"factorial_channels": "display,social,email,sms,affiliate"})
    with pytest.raises(ParameterError, match="display_synergy"):
        OmnichannelScenario.from_params({"display_synergy": -1})


# --------------------------------------------------------------------------- the factorial holdout


def test_factorial_table_gives_each_customer_her_cells_world() -> None:
    s = OmnichannelScenario.from_params({"n_customers": 30_000, "seed": 2})
    world = draw_world(s)
    outcomes = subsets_off(world, FACTORS)
    table = factorial_holdout_table(world, FACTORS, 0.3, outcomes)
    assert table.height == world.n_customers
    shares = table.select(pl.col(f"exposed_{c}").mean() for c in FACTORS).row(0)
    assert all(abs(v - 0.7) < 0.01 for v in shares)
    both = table.select(((pl.col("exposed_display") == 0) & (pl.col("exposed_email") == 0)).mean()).item()
    assert abs(both - 0.09) < 0.006  # independent draws per channel
    for key, outcome in outcomes.items():
        label = "+".join(c for c in FACTORS if c in key) or "none"
        rows = table.filter(pl.col("cell") == label)
        ids = rows["customer_id"].to_numpy()
        assert np.array_equal(rows["purchased"].to_numpy().astype(bool), outcome.purchased[ids]), label


def test_report_leads_with_the_channel_to_grow_or_cut() -> None:
    r = study.run(OmnichannelScenario.from_params({"n_customers": 60_000, "display_synergy": 2.5}))
    f = r.analysis.factorial
    assert f is not None and f.terms.height == 7
    headline = r.verdict().headline
    assert headline.startswith("The factorial holdout ")
    for c in FACTORS:
        row = f.term(c)
        name = study.channel_name(r.scenario, c)
        assert f"{name} ({signed_money(row['profit'])} of profit, 95% CI {signed_money(row['profit_low'])}" \
            in headline
        if row["profit_low"] > 0:
            assert f"grow {name}" in headline or f" and {name} (" in headline.split("cut")[0]
    truth = f.term("total")["true_conversions"]
    assert coordination(f)["true_conversions"][0] == truth
    figures = {(x.name, x.group): x for x in r.figures()}
    pair = figures[("factorial_pair_interaction_conversions", "display x email")]
    assert pair.truth == f.term("display x email")["true_conversions"] and pair.ci_low < pair.ci_high
    assert figures[("one_at_a_time_profit", "")].truth == pytest.approx(
        float(f.holdouts["true_profit"].sum()))
    off = study.run(OmnichannelScenario.from_params({"n_customers": 20_000, "factorial_holdout_share": 0}))
    assert off.analysis.factorial is None and off.verdict().headline.startswith("Last touch")
    assert off.tables()["factorial"].height == 1 and off.charts()["factorial"].to_dict()
