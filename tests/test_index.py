"""The index page: newest first, verdict and link on the first screen at 1280 px, filter, compare, escape."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from experiments.render.index import render_index
from experiments.runs.index_file import collect_runs, write_index
from tests.conftest import dump_dom

HOSTILE = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"><!--'

#: Appended to a copy of the index: measures where the first rows sit, ticks two runs, reports back.
MEASURE = """
<script>
(function () {
  var out = {height: window.innerHeight, width: window.innerWidth, rows: []};
  var rows = document.querySelectorAll('tr.run');
  for (var i = 0; i < Math.min(5, rows.length); i++) {
    var v = rows[i].querySelector('td.verdict').getBoundingClientRect();
    var a = rows[i].querySelector('td.link a').getBoundingClientRect();
    out.rows.push({verdict_bottom: v.bottom, link_bottom: a.bottom, link_right: a.right,
                   study: rows[i].getAttribute('data-study')});
  }
  out.scroll_width = document.documentElement.scrollWidth;
  var boxes = document.querySelectorAll('tr.run[data-study="remarketing"] input');
  boxes[0].click(); boxes[1].click();
  out.compare = document.getElementById('compare').innerText;
  document.querySelector('.bar button[data-study="loyalty"]').click();
  out.visible = Array.prototype.filter.call(document.querySelectorAll('tr.run'),
    function (r) { return r.style.display !== 'none'; }).length;
  out.question = document.getElementById('question').textContent;
  out.pwned = window.__pwned || 0;
  var pre = document.createElement('pre'); pre.id = 'measure'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def _fake_run(root: Path, study: str, minute: int, *, changed: dict, headline: str, tone: str) -> None:
    run_id = f"20261129T10{minute:02d}00Z-000000-abcdef"
    folder = root / study / run_id
    folder.mkdir(parents=True)
    (folder / f"{study}.html").write_text("<html><body>report</body></html>")
    figures = [{"name": "incremental_profit", "label": "Incremental profit (dynamic)",
                "estimate": 1000.0 + minute, "ci_low": -50.0, "ci_high": 2000.0, "truth": 900.0, "unit": "$",
                "group": "dynamic"}]
    meta = {"study": study, "run_id": run_id, "started": f"2026-11-29T10:{minute:02d}:00+00:00",
            "params": {"n_customers": 200000, "seed": 1, **changed}, "changed": changed,
            "question": f"What does {study} answer?",
            "headline": {"headline": headline, "tone": tone, "details": [], "figures": figures}}
    (folder / "run.json").write_text(json.dumps(meta))


@pytest.fixture()
def reports(tmp_path: Path) -> Path:
    long = ("The dynamic campaign added 608 purchases (95% interval 367 to 849) at $2.56 of media each; at "
            "the assumed margin whether it pays back is not yet clear: incremental profit $11,412 (-$3,330 "
            "to $26,154). A second sentence that the index leaves out.")
    for minute in range(8):
        study = ["remarketing", "loyalty"][minute % 2]
        _fake_run(tmp_path, study, minute,
                  changed={"n_customers": 500000 + minute, "channels": "display,email"}, headline=long,
                  tone=["good", "bad", "neutral"][minute % 3])
    _fake_run(tmp_path, "real_experiment", 9, changed={"path": HOSTILE, "control": HOSTILE},
              headline=f"Send the {HOSTILE}.", tone="good")
    (tmp_path / "remarketing" / ".staging-x-1").mkdir()  # a staging folder is never listed
    write_index(tmp_path)
    return tmp_path


def test_newest_first_only_changed_parameters_and_links_that_resolve(reports: Path) -> None:
    runs = collect_runs(reports)
    assert [r["started"] for r in runs] == sorted((r["started"] for r in runs), reverse=True)
    page = (reports / "index.html").read_text()
    hrefs = re.findall(r"<a href='([^']+)'>Open report</a>", page)
    assert len(hrefs) == 9
    assert all((reports / html.unescape(h)).is_file() for h in hrefs)
    assert "n_customers = 500007" in page and "all 3 parameters" in page
    assert "A second sentence" not in page  # the verdict's first sentence only
    assert ".staging" not in page


def test_hostile_text_is_inert(reports: Path) -> None:
    page = (reports / "index.html").read_text()
    assert HOSTILE not in page and "<script>window.__pwned" not in page
    assert page.count("<script") == 3  # the two JSON blocks and the page's own script


def test_empty_index() -> None:
    assert "No runs yet" in render_index([])


@pytest.mark.browser
def test_first_screen_at_1280_shows_five_verdicts_and_links(reports: Path, chromium: str) -> None:
    probe = reports / "probe.html"
    probe.write_text((reports / "index.html").read_text().replace("</body>", MEASURE + "</body>"))
    dom = dump_dom(chromium, probe, window=(1280, 800))
    out = json.loads(html.unescape(re.search(r'<pre id="measure">(.*?)</pre>', dom, re.S).group(1)))
    assert out["width"] == 1280 and out["pwned"] == 0
    assert len(out["rows"]) == 5
    for row in out["rows"]:
        assert row["verdict_bottom"] <= out["height"] and row["link_bottom"] <= out["height"]
        assert row["link_right"] <= out["width"]
    assert out["scroll_width"] <= out["width"]  # nothing wider than the screen
    assert "Incremental profit (dynamic)" in out["compare"] and "truth" in out["compare"]
    assert out["visible"] == 4 and out["question"] == "What does loyalty answer?"


def _fake_sweep(root: Path, sweep_id: str, *, grid: dict, best_sentence: str) -> None:
    folder = root / "remarketing" / "sweeps" / sweep_id
    folder.mkdir(parents=True)
    (folder / "sweep.html").write_text("<html><body>sweep</body></html>")
    meta = {"sweep_id": sweep_id, "study": "remarketing", "started": "2026-11-29T11:00:00+00:00",
            "question": "What does remarketing answer?", "grid": grid, "fixed": {"seed": HOSTILE},
            "points": [{"index": 0}, {"index": 1}], "failed": 0,
            "best": {"sentence": best_sentence, "tone": "good"}}
    (folder / "sweep.json").write_text(json.dumps(meta))


def test_sweeps_are_listed_escaped_and_filtered_by_study(reports: Path) -> None:
    _fake_sweep(reports, "S1", grid={"frequency_cap": [2, 4], HOSTILE: [HOSTILE]},
                best_sentence=f"Best {HOSTILE}.")
    write_index(reports)
    page = (reports / "index.html").read_text()
    assert "remarketing/sweeps/S1/sweep.html" in page and "Open sweep" in page and "1 sweep" in page
    assert HOSTILE not in page and "<script>window.__pwned" not in page
    assert page.count("<script") == 3
    assert "frequency_cap: 2, 4" in page and "2 points" in page
    row = page[page.index("<tr class='sweep"):]
    assert row.index("data-study='remarketing'") < row.index("Open sweep")


def test_the_index_follows_the_registry_and_the_folders(reports: Path) -> None:
    import shutil

    runs = collect_runs(reports)
    shutil.rmtree(reports / runs[0]["study"] / runs[0]["run_id"])  # deleted by hand
    write_index(reports)
    page = (reports / "index.html").read_text()
    assert page.count(">Open report</a>") == len(runs) - 1 and runs[0]["run_id"] not in page
    assert (reports / "runs.sqlite").is_file() and not list(reports.glob(".index.html.*"))
