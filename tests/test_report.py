"""``experiments run``: run folders, metadata, index, bad input, failures, and offline charts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from experiments.commands.run import coerce_cli_value
from experiments.errors import ExperimentsError, ParameterError
from experiments.paths import NOTEBOOKS_DIR
from experiments.report import runner
from experiments.report.display import table, verdict_box
from experiments.report.runner import run_study
from experiments.studies.base import Verdict
from tests.conftest import dump_dom

SMALL = {"n_customers": 20000, "seed": 7}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, runner.RunResult]:
    root = tmp_path_factory.mktemp("reports")
    return root, run_study("remarketing", SMALL, reports_dir=root)


def test_run_writes_its_own_folder_with_metadata(reports: tuple[Path, runner.RunResult]) -> None:
    root, result = reports
    assert result.run_dir.parent == root / "remarketing"
    assert result.html.is_file() and result.notebook.is_file()
    meta = json.loads((result.run_dir / "run.json").read_text())
    assert meta["seed"] == 7 and meta["params"]["n_customers"] == 20000
    assert meta["overrides"] == SMALL
    assert {"python", "numpy", "polars", "statsmodels", "papermill"} <= set(meta["versions"])
    assert meta["git_revision"]
    assert json.loads((result.run_dir / "params.json").read_text())["n_customers"] == 20000
    assert meta["headline"]["headline"] == result.headline and "purchases" in result.headline
    assert meta["changed"] == SMALL and meta["lock"]["requirements/main.txt"] != "missing"
    names = {f["name"] for f in meta["headline"]["figures"]}
    assert names >= {"incremental_profit", "incremental_conversions"}
    executed = nbformat.read(str(result.notebook), as_version=4)
    assert executed.metadata["papermill"]["parameters"] == SMALL


def test_html_hides_code_and_states_the_verdict_first(reports: tuple[Path, runner.RunResult]) -> None:
    page = reports[1].html.read_text()
    assert "simulate_remarketing(" not in page and "from experiments" not in page
    assert "NBVAL_CHECK_OUTPUT" not in page
    body = page[page.index("<body"):]
    first_verdict = body.index('class="verdict"')
    assert first_verdict < body.index("Each estimate next to the truth")
    # nothing is fetched from the web: no external script, style, font or image
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']https?://", page)
    assert "mathjax" not in page.lower().split("<body")[0]


def test_index_lists_runs_and_runs_never_overwrite(reports: tuple[Path, runner.RunResult]) -> None:
    root, first = reports
    second = run_study("remarketing", SMALL, reports_dir=root)
    assert second.run_dir != first.run_dir and first.html.is_file()
    index = (root / "index.html").read_text()
    assert index.count(">Open report</a>") == 2
    assert f"remarketing/{first.run_id}/remarketing.html" in index
    assert "n_customers = 20000" in index and "seed = 7" in index
    # same parameters and seed: identical headline numbers
    h1 = json.loads((first.run_dir / "run.json").read_text())["headline"]
    h2 = json.loads((second.run_dir / "run.json").read_text())["headline"]
    assert h1 == h2 and h1["figures"]


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("n_customers", "-5", "n_customers"),
        ("n_customers", "2.5", "n_customers"),
        ("n_customers", "abc", "n_customers"),
        ("arm_shares", "holdout:0.5,dynamic:0.6", "arm_shares"),
        ("channels", "display,billboard", "billboard"),
        ("discount", "1.5", "discount"),
        ("cookie_match_rate", "-0.1", "cookie_match_rate"),
        ("no_such_parameter", "1", "no_such_parameter"),
    ],
)
def test_bad_parameters_exit_2_and_write_nothing(
    tmp_path: Path, name: str, value: str, fragment: str
) -> None:
    done = _cli("run", "remarketing", "-p", name, value, "--reports-dir", str(tmp_path / "r"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "allowed" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()


def test_unknown_study_exits_2(tmp_path: Path) -> None:
    done = _cli("run", "nosuchstudy", "--reports-dir", str(tmp_path))
    assert done.returncode == 2 and "remarketing" in done.stderr


def test_failed_run_leaves_nothing_and_keeps_the_index(
    reports: tuple[Path, runner.RunResult]
) -> None:
    root, _ = reports
    before = sorted(p.name for p in (root / "remarketing").iterdir())
    index_before = (root / "index.html").read_bytes()
    # the notebook's validation cell is what fails; the runner reads the failure back as one line
    with pytest.raises(ExperimentsError, match="n_customers"):
        run_study("remarketing", {"n_customers": -5}, reports_dir=root)
    assert sorted(p.name for p in (root / "remarketing").iterdir()) == before
    assert (root / "index.html").read_bytes() == index_before


def test_plain_papermill_runs_and_validates(tmp_path: Path) -> None:
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOKS_DIR / "remarketing.ipynb"), str(out), parameters={"n_customers": 5000},
                        kernel_name="python3", cwd=str(NOTEBOOKS_DIR), progress_bar=False)
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(str(NOTEBOOKS_DIR / "remarketing.ipynb"), str(out),
                            parameters={"discount": 2.0}, kernel_name="python3", cwd=str(NOTEBOOKS_DIR),
                            progress_bar=False)
    assert info.value.ename == "ParameterError" and "discount" in info.value.evalue
    executed = nbformat.read(str(out), as_version=4)
    failed = [c for c in executed.cells if c.cell_type == "code" and any(
        o.get("output_type") == "error" for o in c.outputs)]
    assert len(failed) == 1 and "from_namespace" in failed[0].source


def test_unknown_names_are_rejected_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="frequency_kap"):
        run_study("remarketing", {"frequency_kap": 3}, reports_dir=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_cli_values_are_read_like_papermill_but_none_stays_text() -> None:
    assert coerce_cli_value("3") == 3 and coerce_cli_value("0.5") == 0.5
    assert coerce_cli_value("true") is True and coerce_cli_value("a,b") == "a,b"
    assert coerce_cli_value("none") == "none" and coerce_cli_value("-inf") == float("-inf")


def test_user_text_is_escaped() -> None:
    import polars as pl

    assert "<script>" not in verdict_box(Verdict("<script>alert(1)</script>"))
    assert "&lt;b&gt;" in table(pl.DataFrame({"<b>": ["<i>x</i>"]})).data
    assert "<i>x</i>" not in table(pl.DataFrame({"c": ["<i>x</i>"]})).data


@pytest.mark.browser
def test_every_chart_draws_offline_in_chromium(reports: tuple[Path, runner.RunResult], chromium: str) -> None:
    page = reports[1].html
    n_charts = len(set(re.findall(r'<div id="(altair-viz-[0-9a-f]+)"', page.read_text())))
    assert n_charts >= 4
    dom = re.sub(r"<script\b.*?</script>", "", dump_dom(chromium, page), flags=re.S)
    assert '<div class="error"' not in dom  # altair's loader shows failures in such a div
    drawn = len(re.findall(r'<(?:canvas|svg)[^>]*class="marks"', dom))
    assert drawn == n_charts
    # tooltips: vega-embed installs its tooltip handler
    assert "vg-tooltip" in dom or "vega-embed" in dom


def test_the_verdict_travels_back_in_the_executed_notebook(reports: tuple[Path, runner.RunResult]) -> None:
    record = runner.read_record(nbformat.read(str(reports[1].notebook), as_version=4))
    assert record["study"] == "remarketing" and record["headline"] == reports[1].headline
    assert record["parameters"]["n_customers"] == 20000 and record["tone"] in {"good", "bad", "neutral"}
    assert not list(reports[1].run_dir.glob("headline*"))  # no side file


@pytest.mark.browser
def test_analyze_html_draws_offline_in_chromium(tmp_path: Path, chromium: str) -> None:
    from experiments.paths import HILLSTROM_CSV

    page = tmp_path / "analysis.html"
    done = _cli("analyze", str(HILLSTROM_CSV), "--arm", "segment", "--control", "No E-Mail",
                "--metric", "conversion", "--metric", "spend", "--covariate", "history", "--html", str(page))
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']https?://", text)
    body = text[text.index("<body>"):]
    assert body.index('class="verdict"') < body.index("<table")
    dom = re.sub(r"<script\b.*?</script>", "", dump_dom(chromium, page), flags=re.S)
    assert len(re.findall(r'<(?:canvas|svg)[^>]*class="marks"', dom)) == text.count('<div class="chart"')
    assert text.count('<div class="chart"') >= 1
