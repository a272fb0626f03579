"""Every report kind rendered from hostile labels and parameters, opened in headless Chromium.

Hostile text reaches reports through data files (arm and segment labels, column names, channel names),
through file names and through text parameters. Each page must show it as text: no script of it runs,
every chart draws, and every section the page's source holds is still there in the browser.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from experiments.cli import main
from tests.browser_probe import HOSTILE, PAYLOADS, Probe, probe_page, source_outline

pytestmark = [pytest.mark.browser,
              pytest.mark.filterwarnings("ignore:Function stable_cumsum is deprecated:FutureWarning")]

P = PAYLOADS
#: Labels and column names of the hostile experiment file (none holds a comma: column lists split on it).
CONTROL = "control " + HOSTILE
ARMS = (CONTROL, "mail " + P["end_script"] + P["separators"], "sms " + P["img"] + P["entity"] + P["comment"])
ARM_COL = "arm " + P["quotes"] + P["comment"]
VISIT = "visit " + P["img"] + P["comment"]
SPEND = "spend " + P["end_script"] + P["entity"]
HISTORY = "history " + P["quotes"]
CHANNEL = "channel " + P["alert"]
CHANNELS = ("web " + HOSTILE, "phone " + P["comment"], "both")
#: A file name may hold anything but a slash.
FILE_NAME = "exp <img src=x onerror=window.__pwned=1> '\"&lt; <!--.csv"
TOUCH_FILE = "touches <svg onload=window.__pwned=1> &lt;b&gt; \"' <!--.csv"


def _headings(items: list[str]) -> list[str]:
    return [" ".join(h.replace("¶", "").split()) for h in items]


def assert_inert(page: Path, probe: Probe, *, min_charts: int, sections: tuple[str, ...] = (),
                 shows_labels: bool = True) -> None:
    """No hostile script ran, every chart drew, every section of the source is in the browser."""
    assert probe.pwned == 0 and probe.alerts == 0, f"{page.name}: a hostile script ran"
    assert probe.on_attributes == 0 and probe.images == 0, f"{page.name}: hostile markup became elements"
    assert probe.errors == [], f"{page.name}: script errors {probe.errors[:3]}"
    source_headings, charts = source_outline(page)
    assert charts >= min_charts, f"{page.name}: {charts} charts in the source"
    assert probe.chart_errors == 0 and probe.marks == charts, (
        f"{page.name}: {probe.marks} of {charts} charts drew")
    assert _headings(probe.headings) == _headings(source_headings), f"{page.name}: sections lost"
    for title in sections:
        assert any(title in h for h in probe.headings), f"{page.name}: no section {title!r}"
    if shows_labels:  # hostile text is shown as text, not dropped
        assert "window.__pwned=1" in probe.text and "&lt;b&gt;" in probe.text


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A randomised experiment and a touch log whose labels and names are hostile."""
    d = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(12)
    n = 3000
    arm = rng.choice(ARMS, n)
    history = rng.gamma(2.0, 60.0, n).round(2)
    lift = np.where(arm == ARMS[1], 0.06, np.where(arm == ARMS[2], 0.03, 0.0))
    visit = (rng.random(n) < 0.12 + lift).astype(np.int64)
    spend = np.where(rng.random(n) < 0.04 + lift / 3, rng.gamma(2.0, 50.0, n) + 0.2 * history, 0.0).round(2)
    frame = pl.DataFrame({ARM_COL: arm, VISIT: visit, SPEND: spend, HISTORY: history,
                          CHANNEL: rng.choice(CHANNELS, n), "newbie": rng.integers(0, 2, n),
                          "recency": rng.integers(1, 13, n)})
    out = {"dir": d, "experiment": d / FILE_NAME}
    frame.write_csv(out["experiment"])
    k = 1500
    lengths = rng.integers(1, 5, k)
    jid = np.repeat(np.arange(k), lengths)
    names = ["search " + HOSTILE, "e-mail " + P["comment"], "direct", "social " + P["end_script"]]
    conv = rng.integers(0, 2, k)
    pl.DataFrame({"journey": jid, "time": rng.random(jid.size) * 20, "channel": rng.choice(names, jid.size),
                  "converted": np.repeat(conv, lengths),
                  "value": np.repeat(np.where(conv == 1, 50.0, 0.0), lengths)}).write_csv(d / TOUCH_FILE)
    out["touches"] = d / TOUCH_FILE
    return out


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> None:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 0, err


def test_analyze_html(hostile: dict[str, Path], chromium: str, capsys: pytest.CaptureFixture[str]) -> None:
    page = hostile["dir"] / "analyze.html"
    _cli(capsys, "analyze", hostile["experiment"], "--arm", ARM_COL, "--control", CONTROL, "--metric", VISIT,
         "--metric", SPEND, "--covariate", HISTORY, "--segment", CHANNEL, "--html", page, "--json", "-")
    assert_inert(page, probe_page(chromium, page), min_charts=1,
                 sections=("Sample-ratio check", "Data quality"))


def test_uplift_html(hostile: dict[str, Path], chromium: str, capsys: pytest.CaptureFixture[str]) -> None:
    page = hostile["dir"] / "uplift.html"
    _cli(capsys, "uplift", hostile["experiment"], "--arm", ARM_COL, "--treatment", ARMS[1],
         "--control", CONTROL, "--outcome", VISIT, "--feature", HISTORY, "--feature", CHANNEL,
         "--feature", "recency", "--bootstrap", "50", "--folds", "3", "--html", page, "--json", "-")
    assert_inert(page, probe_page(chromium, page), min_charts=3,
                 sections=("How many customers to treat", "How it was computed"))


def test_attribute_html(hostile: dict[str, Path], chromium: str, capsys: pytest.CaptureFixture[str]) -> None:
    page = hostile["dir"] / "attribute.html"
    _cli(capsys, "attribute", hostile["touches"], "--journey", "journey", "--time", "time",
         "--channel", "channel", "--converted", "converted", "--value", "value", "--direct", "direct",
         "--html", page, "--json", "-")
    assert_inert(page, probe_page(chromium, page), min_charts=1)


# ------------------------------------------------------------------------- study reports and the index

#: Small, quick runs of each study; hostile text goes in through every text parameter that takes it.
def _study_runs(hostile: dict[str, Path]) -> dict[str, dict[str, object]]:
    asos = hostile["dir"] / "asos <img src=x onerror=window.__pwned=1> '\"&lt;.parquet"
    if not asos.exists():
        from experiments.paths import ASOS_PARQUET

        shutil.copyfile(ASOS_PARQUET, asos)
    return {
        "remarketing": {"n_customers": 20000, "seed": 3},
        "loyalty": {"n_customers": 3000, "seed": 3},
        "real_experiment": {"path": str(hostile["experiment"]), "arm": ARM_COL, "control": CONTROL,
                            "metrics": f"{VISIT},{SPEND}", "covariate": HISTORY,
                            "segments": f"{CHANNEL},newbie", "decision_metric": SPEND},
        "calibration": {"replications": 100, "n_per_arm": 1000, "cuped_n_per_arm": 200, "looks": 4,
                        "n_per_look": 100, "asos_path": str(asos)},
        "omnichannel": {"n_customers": 20000, "seed": 3},
        "targeting": {"n_customers": 8000, "seed": 3},
        "lifecycle": {"n_customers": 4000, "seed": 3},
    }


@pytest.fixture(scope="module")
def runs(hostile: dict[str, Path]) -> dict[str, Path]:
    """Every registered study run once into one reports folder, then a sweep of the real experiment over
    hostile control labels (on a one-worker Dask cluster); the index then lists them all."""
    from experiments.runs.study_run import run_study
    from experiments.runs.sweeps import build_grid, run_sweep
    from experiments.studies import registry

    params = _study_runs(hostile)
    assert set(params) == set(registry.names()), "a new study: give it a small hostile run here"
    root = hostile["dir"] / "reports"
    pages = {name: run_study(name, params[name], reports_dir=root).html for name in registry.names()}
    fixed = {k: v for k, v in params["real_experiment"].items() if k != "control"}
    grid = build_grid("real_experiment", [("control", (CONTROL, ARMS[2]))], fixed)
    pages["sweep"] = run_sweep(grid, reports_dir=root, workers=1).html
    return pages | {"index": root / "index.html"}


STUDIES = ["remarketing", "loyalty", "real_experiment", "calibration", "omnichannel", "targeting",
           "lifecycle"]


@pytest.mark.parametrize("study", STUDIES)
def test_study_report(runs: dict[str, Path], study: str, chromium: str) -> None:
    page = runs[study]
    hostile_text = study == "real_experiment"  # the others do not show their file name
    assert_inert(page, probe_page(chromium, page), min_charts=2, shows_labels=hostile_text)


def test_sweep_report(runs: dict[str, Path], chromium: str) -> None:
    page = runs["sweep"]
    assert_inert(page, probe_page(chromium, page), min_charts=1,
                 sections=("Headline figures against each swept parameter", "The grid", "Settings"))


def test_index(runs: dict[str, Path], chromium: str) -> None:
    page = runs["index"]
    probe = probe_page(chromium, page)
    assert_inert(page, probe, min_charts=0, sections=("Experiment reports", "The studies"))
    assert probe.dom.count("Open report") >= len(STUDIES) + 2  # the runs, the sweep's two among them
    assert "sweep.html" in probe.dom
