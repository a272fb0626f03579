"""The omnichannel study: its verdict quotes the analysis; the sanity world; figures, tables, report."""

from __future__ import annotations

import json
import re

import nbformat
import papermill as pm
import polars as pl
import pytest

from experiments.formatting import fmt, money
from experiments.models.attribution import MODELS
from experiments.paths import NOTEBOOKS_DIR
from experiments.simulate.journeys import draw_world, observed_log
from experiments.studies import registry
from experiments.studies.base import record
from experiments.studies.omnichannel import STUDY
from experiments.studies.omnichannel import result as study
from experiments.studies.omnichannel.numbers import EXPERIMENT_PLAN, TRUTH_PLAN
from experiments.studies.omnichannel.scenario import CHANNELS, OmnichannelScenario


def _same(value: object) -> str:
    return ",".join(f"{c}:{value}" for c in CHANNELS)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


@pytest.fixture(scope="module")
def result() -> study.OmnichannelResult:
    return study.run(OmnichannelScenario.from_params({"n_customers": 100_000}))


def test_registered_with_its_scenario_and_simulator() -> None:
    s = registry.get("omnichannel")
    assert s is STUDY and s.scenario is OmnichannelScenario
    assert s.notebook == "notebooks/omnichannel.ipynb"
    assert s.simulated and s.question.endswith("?")


def test_verdict_quotes_the_analysis(result: study.OmnichannelResult) -> None:
    a = result.analysis
    v = result.verdict()
    assert study.focus_channels(a) == ["display", "search_brand"]  # retargeting and brand search, flattered
    d_credit, d_true = a.share("last_touch", "display")
    b_credit, b_true = a.share("last_touch", "search_brand")
    assert v.headline.startswith("The factorial holdout ")  # the channel to grow or cut comes first
    attribution = next(d for d in v.details if d.startswith("Last touch gives"))
    assert attribution.startswith(
        f"Last touch gives display retargeting {_pct(d_credit)} of the credit and brand search "
        f"{_pct(b_credit)}; they caused {_pct(d_true)} and {_pct(b_true)} of the extra sales.")
    loss, gain = a.plan("last_touch")["profit_change"], a.plan(EXPERIMENT_PLAN)["profit_change"]
    assert loss < 0 < gain
    assert (f"Moving budget by last touch loses {money(-loss, 0)} of profit over the 4-week plan; the "
            f"channel experiments' plan gains {money(gain, 0)}.") in attribution
    assert v.tone == "bad"
    display = a.experiments.filter(pl.col("channel") == "display").row(0, named=True)
    details = " ".join(v.details)
    assert (f"measured display retargeting at {fmt(display['estimate'], 'int')} extra purchases (95% CI "
            f"{fmt(display['ci_low'], 'int')} to {fmt(display['ci_high'], 'int')}; true "
            f"{fmt(display['truth'], 'int')})") in details
    covered = int(a.experiments["covered"].fill_null(False).sum())
    assert f"hold the true effect for {covered} of 7 channels" in details
    best = a.errors.row(0, named=True)
    assert f"Closest model to the truth: {study.model_name(best['model'])}, off by " \
           f"{100 * best['mean_abs_error']:.1f} points" in details
    assert f"gain {money(a.plan(TRUTH_PLAN)['profit_change'], 0)}" in details
    assert f"{_pct(a.blind_spot['store_share'])} of purchases happen in a store" in details
    split = _pct(a.cross_device["converting_customers_split"])
    assert f"split the journeys of {split} of online buyers" in details
    assert all(d.endswith(".") for d in v.details)


def test_sanity_world_verdict_finds_no_flattered_channel() -> None:
    """Every channel pushed at random to half the customers, all alike: last touch's credit is within 2
    points of each true share, so the verdict names no flattered channel and takes no side."""
    s = OmnichannelScenario.from_params({
        "n_customers": 200_000, "seed": 11, "targeting": _same("push"), "reach": _same(0.5),
        "audience_tilt": _same(0.0), "frequency": _same(1.0), "capture": _same(0.0), "lift": _same(1.0),
        "half_life": _same(2.0), "unit_cost": _same(0.01), "display_synergy": 1.0,  # channels alike
    })
    r = study.run(s)
    assert study.focus_channels(r.analysis) == []
    v = r.verdict()
    gaps = [r.analysis.share("last_touch", c) for c in CHANNELS]
    worst = max(abs(credit - true) for credit, true in gaps)
    assert worst < study.OVERSTATEMENT
    assert any(d.startswith(f"Last touch credits every channel within {100 * worst:.1f} points of its "
                            "true share of the extra sales.") for d in v.details)
    assert v.tone == "neutral"
    assert not any("under-credits" in d for d in v.details)
    assert "display retargeting" not in " ".join(r.assumptions())  # nothing retargets in this world


def test_figures(result: study.OmnichannelResult) -> None:
    a = result.analysis
    figures = result.figures()
    by_name: dict[str, list] = {}
    for f in figures:
        by_name.setdefault(f.name, []).append(f)
    assert [f.group for f in by_name["model_plan_profit_change"]] == list(MODELS)
    assert len(by_name[STUDY.sweep_figure.name]) == 1  # a sweep ranks runs by one number
    assert by_name["experiment_plan_profit_change"][0].estimate == a.plan(EXPERIMENT_PLAN)["profit_change"]
    tests = by_name["incremental_purchases"]
    assert len(tests) == 7 and all(f.ci_low <= f.estimate <= f.ci_high and f.truth is not None for f in tests)
    assert sum(f.covered for f in tests) >= 5
    shares = {f.group: f for f in by_name["credit_share"]}
    assert set(shares) == set(CHANNELS) and shares["search_brand"].truth == 0.0
    errors = {f.group: f.estimate for f in by_name["model_error"]}
    assert errors == dict(a.errors.select("model", "mean_abs_error").iter_rows())
    assert {"store_share", "incremental_store_share", "split_buyers"} <= set(by_name)
    assert json.loads(json.dumps(record("omnichannel", result, result.scenario)))["figures"]


def test_tables(result: study.OmnichannelResult) -> None:
    a, s = result.analysis, result.scenario
    tables = result.tables()
    assert set(tables) == {"coordination", "factorial", "credit", "errors", "experiments", "costs", "plans",
                           "marginal", "store", "cross_device"}
    credit = tables["credit"]
    assert credit.columns[1:] == [study.channel_name(s, c) for c in CHANNELS]
    assert credit["share"].to_list()[:2] == ["true share of the extra sales", "channel experiments' share"]
    assert credit.height == 2 + len(MODELS)
    last = credit.filter(pl.col("share") == "last touch credit").row(0, named=True)
    assert last["display retargeting"] == _pct(a.share("last_touch", "display")[0])
    costs = tables["costs"]
    assert costs.filter(pl.col("dollars") == "per true extra sale")["brand search"][0] == "none caused"
    plans = tables["plans"]
    assert plans["plan"].to_list()[0] == "current plan" and plans.height == len(MODELS) + 3
    assert tables["experiments"].filter(pl.col("channel") == "direct")["held out"][0] == "not testable"
    assert tables["marginal"].height == len(s.budget_channels)
    for name, table in tables.items():  # formatted for the report: text, no raw floats
        assert all(dtype == pl.String for dtype in table.dtypes), name


def test_chart_titles_state_the_finding(result: study.OmnichannelResult) -> None:
    a = result.analysis
    charts = result.charts()
    titles = {name: chart.to_dict()["title"] for name, chart in charts.items()}
    assert titles["credit"].endswith(f"over-credit display retargeting (last touch: "
                                     f"{_pct(a.share('last_touch', 'display')[0])} of the credit for "
                                     f"{_pct(a.share('last_touch', 'display')[1])} of the extra sales)")
    best = study.model_name(a.errors["model"][0])
    assert titles["errors"].startswith(f"{best[0].upper()}{best[1:]} comes closest")
    assert money(abs(a.plan("last_touch")["profit_change"]), 0) in titles["plans"]
    assert _pct(a.blind_spot["incremental_store_share"]) in titles["store"]
    assert _pct(a.cross_device["touches_lost_share"]) in titles["cross_device"]
    for name, chart in charts.items():
        spec = chart.to_dict()
        rows = sum(len(v) for v in spec.get("datasets", {}).values())
        assert 0 < rows < 5000, name  # aggregated before charting


def test_assumptions_and_data_checks(result: study.OmnichannelResult) -> None:
    s = result.scenario
    text = " ".join(result.assumptions())
    for source in ("Johnson, Lewis & Nubbemeyer 2017", "Blake, Nosko & Tadelis 2015", "Chan et al. 2011",
                   "Sahni, Narayanan & Kalyanam 2019", "DataBeat 2024"):
        assert source in text
    assert f"{s.n_customers:,} simulated customers" in text and "$8.00 per 1,000 touches" in text
    checks = result.data_checks()
    assert checks[0].startswith(f"Touch log: {result.analysis.log_rows:,} touches")
    assert sum("(user-level test)" in c for c in checks) == 4
    assert sum("(geo-level test)" in c for c in checks) == 3


def test_headline_text_is_rounded(result: study.OmnichannelResult) -> None:
    text = result.headline_text()
    credit, true = result.analysis.share("last_touch", "display")
    assert text.splitlines()[0] == f"last_touch display: credit share {credit:.3f} true share {true:.3f}"
    assert not re.search(r"\d\.\d{4,}", text)


def test_simulate_gives_the_observed_log() -> None:
    s = OmnichannelScenario.from_params({"n_customers": 2_000})
    log = STUDY.simulate(s, block_size=1024, workers=2)
    assert log.equals(observed_log(draw_world(s)))
    assert log.columns[:6] == ["journey_id", "time", "channel", "device", "converted", "value"]


def test_report_has_every_section(tmp_path) -> None:
    """The notebook runs under papermill; every table and chart cell shows something, nothing fails."""
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(NOTEBOOKS_DIR / "omnichannel.ipynb", out, parameters={"n_customers": 20_000},
                        kernel_name="python3", cwd=str(NOTEBOOKS_DIR), progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    for section in ("## Credit against what each channel causes", "## How far each model is from the truth",
                    "## What the channel experiments measure", "## Cost per extra sale",
                    "## Moving the budget by each model", "## The store-sales blind spot",
                    "## Channels that work together",
                    "## The cross-device break", "## Assumptions and checks"):
        assert section in headings
    code = [c for c in nb.cells
            if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]
    shown = [c for c in code[2:] if c.outputs]  # after the parameters and validation cells
    assert len(shown) == len(code) - 2
    def html(cell: nbformat.NotebookNode) -> str:
        return "".join(o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {}))

    charts = [c for c in code if re.fullmatch(r"result\.\w+_chart\(\)", c.source)]
    tables = [c for c in code if c.source.startswith("report.table(")]
    assert len(charts) == 8  # one cell per chart of OmnichannelResult.charts()
    assert all("vegaEmbed" in html(c) for c in charts)
    assert len(tables) == 10 and all('class="result-table"' in html(c) for c in tables)
    assert 'class="verdict"' in html(code[2])


def test_a_log_without_online_purchases_has_nothing_to_credit() -> None:
    r = study.run(OmnichannelScenario.from_params({"n_customers": 300, "store_share": 1.0}))
    v = r.verdict()
    assert any(d.startswith("The touch log holds no online purchase, so last touch has nothing to credit.")
               for d in v.details)
    assert all(t.height for t in r.tables().values()) and r.charts()
