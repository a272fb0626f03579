"""Studies at the edges of their declared parameters: each runs to a report or refuses in one clear line."""

from __future__ import annotations

import math
from typing import Any

import pytest

from experiments.errors import DataError, ParameterError
from experiments.studies import registry


def _run(name: str, params: dict[str, object]) -> Any:
    study = registry.get(name)
    result = study.run(study.scenario.from_params(params))
    result.tables(), result.charts(), result.verdict()
    return result


@pytest.mark.parametrize("params", [{"audience": "lapsed_visitors"},
                                    {"channels": "social", "purchase_lift": 0}])
def test_remarketing_without_true_extra_buyers_shows_a_missing_truth(params: dict[str, object]) -> None:
    """Where the true incremental purchases are not positive, the cost per incremental purchase has no truth:
    the comparison table shows it missing instead of failing."""
    result = _run("remarketing", {"n_customers": 20_000, **params})
    table = result.truth_table()
    rows = table.filter(table["measure"] == "cost per incremental conversion")
    missing = [r for r in rows.iter_rows(named=True) if r["true value"] == "n/a"]
    assert missing, "this world has an arm without true extra buyers"
    assert all(r["interval holds truth"] == "n/a" for r in missing)


@pytest.mark.parametrize("params", [{"channels": "sms", "sms_opt_in_rate": 0},
                                    {"channels": "display", "cookie_match_rate": 0}])
def test_remarketing_nobody_reachable_is_one_clear_error(params: dict[str, object]) -> None:
    with pytest.raises(DataError, match="could be reached on the campaign's channels"):
        _run("remarketing", {"n_customers": 20_000, **params})


def test_omnichannel_without_synergy_channels_still_speaks() -> None:
    result = _run("omnichannel", {"n_customers": 10_000, "synergy_channels": ""})
    assert result.verdict()


def test_targeting_with_all_browsing_lost_fits_without_it() -> None:
    result = _run("targeting", {"n_customers": 6_000, "consent_loss": 1})
    assert result.offers is not None and math.isfinite(result.offers.consent[3])


def test_lifecycle_margin_is_strictly_between_0_and_1() -> None:
    study = registry.get("lifecycle")
    for bad in (0.0, 1.0):
        with pytest.raises(ParameterError, match="gross_margin"):
            study.scenario.from_params({"gross_margin": bad})
