"""``experiments attribute`` end to end: both input forms, JSON contract, HTML, bad input exits 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from experiments.cli import main
from experiments.models.attribution import MODELS
from tests.conftest import dump_dom

TOUCH = ["--journey", "journey_id", "--time", "time", "--channel", "channel", "--converted", "converted"]
PATHS = ["--path", "path", "--conversions", "conv", "--nulls", "null"]


@pytest.fixture(scope="module")
def touches() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    n = 2000
    lengths = rng.integers(1, 6, n)
    jid = np.repeat(np.arange(n), lengths)
    conv = rng.integers(0, 2, n)
    return pl.DataFrame({
        "journey_id": jid,
        "time": rng.random(jid.size) * 28,
        "channel": rng.choice(["direct", "email", "search", "social", "display"], jid.size),
        "converted": np.repeat(conv, lengths),
        "value": np.repeat(np.where(conv == 1, rng.gamma(2.0, 40.0, n).round(2), 0.0), lengths),
    }).sort(["journey_id", "time"])


@pytest.fixture
def touch_file(tmp_path, touches) -> Path:
    target = tmp_path / "touches.parquet"
    touches.write_parquet(target)
    return target


@pytest.fixture
def path_file(tmp_path) -> Path:
    target = tmp_path / "paths.csv"
    pl.DataFrame({"path": ["search > display > email", "display", "email>search", "social > direct"],
                  "conv": [3, 1, 0, 2], "null": [5, 10, 4, 0], "value": [300.0, 80.0, 0.0, 150.0]}
                 ).write_csv(target)
    return target


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_touch_input_json_contract(touch_file, touches, capsys):
    rc = main(["attribute", str(touch_file), *TOUCH, "--value", "value", "--json", "-"])
    assert rc == 0
    out = _json(capsys)
    journeys = touches.group_by("journey_id").agg(pl.col("converted").first(), pl.col("value").first())
    assert out["n_journeys"] == journeys.height
    assert out["n_conversions"] == int(journeys["converted"].sum())
    assert out["channels"] == ["direct", "display", "email", "search", "social"]
    assert list(out["models"]) == list(MODELS)
    total_value = float(journeys.filter(pl.col("converted") == 1)["value"].sum())
    for m, credit in out["models"].items():
        assert sum(credit.values()) == pytest.approx(out["n_conversions"], rel=1e-12)
        assert sum(out["models_value"][m].values()) == pytest.approx(total_value, rel=1e-12)
    assert set(out["removal_effects"]) == set(out["channels"])
    assert all(0 <= v <= 1 for v in out["removal_effects"].values())


def test_unsorted_rows_give_the_same_answer(tmp_path, touches, capsys):
    sorted_csv, shuffled_csv = tmp_path / "a.csv", tmp_path / "b.csv"
    touches.write_csv(sorted_csv)
    touches.sample(fraction=1.0, shuffle=True, seed=3).write_csv(shuffled_csv)
    assert main(["attribute", str(sorted_csv), *TOUCH, "--json", "-"]) == 0
    a = _json(capsys)
    assert main(["attribute", str(shuffled_csv), *TOUCH, "--json", "-"]) == 0
    b = _json(capsys)
    for m in a["models"]:
        assert b["models"][m] == pytest.approx(a["models"][m], rel=1e-12)


def test_path_input_and_models(path_file, capsys):
    rc = main(["attribute", str(path_file), *PATHS, "--value", "value", "--json", "-"])
    assert rc == 0
    out = _json(capsys)
    assert out["n_journeys"] == 25 and out["n_conversions"] == 6
    assert out["channels"] == ["direct", "display", "email", "search", "social"]
    assert "time_decay" not in out["models"] and len(out["models"]) == len(MODELS) - 1
    assert out["models"]["last_touch"] == {"direct": 2, "display": 1, "email": 3, "search": 0, "social": 0}
    assert out["models"]["last_non_direct"]["social"] == 2
    assert sum(out["models_value"]["markov"].values()) == pytest.approx(530.0)
    rc = main(["attribute", str(path_file), *PATHS, "--model", "markov", "--model", "linear", "--order", "2",
               "--json", "-"])
    assert rc == 0
    out = _json(capsys)
    assert list(out["models"]) == ["linear", "markov"] and out["markov_order"] == 2


def test_separator_option(tmp_path, capsys):
    target = tmp_path / "p.csv"
    pl.DataFrame({"path": ["a | b", "b"], "conv": [1, 1], "null": [0, 1]}).write_csv(target)
    rc = main(["attribute", str(target), *PATHS, "--sep", "|", "--model", "first_touch", "--json", "-"])
    assert rc == 0
    assert _json(capsys)["models"]["first_touch"] == {"a": 1, "b": 1}


def test_text_output_and_files(touch_file, tmp_path, capsys):
    js, page = tmp_path / "out.json", tmp_path / "out.html"
    rc = main(["attribute", str(touch_file), *TOUCH, "--json", str(js), "--html", str(page)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "journeys" in text and "removal_effect" in text and "total" in text
    assert json.loads(js.read_text())["n_journeys"] == 2000
    assert page.read_text().startswith("<!DOCTYPE html>")
    # existing outputs are not replaced without --overwrite, and nothing else is written
    rc = main(["attribute", str(touch_file), *TOUCH, "--json", str(js)])
    assert rc == 2 and "--overwrite" in capsys.readouterr().err
    assert main(["attribute", str(touch_file), *TOUCH, "--json", str(js), "--overwrite"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.html", "out.json", "touches.parquet"]


def test_html_escapes_user_text(tmp_path, capsys):
    target = tmp_path / "<b>paths.csv"
    pl.DataFrame({"path": ["<script>alert(1)</script> | email", "email"], "conv": [1, 1], "null": [0, 1]}
                 ).write_csv(target)
    page = tmp_path / "r.html"
    assert main(["attribute", str(target), *PATHS, "--sep", "|", "--html", str(page)]) == 0
    text = page.read_text()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>paths.csv" not in text and "&lt;b&gt;paths.csv" in text
    assert text.count("vegaEmbed(") >= 1 and "cdn.jsdelivr" not in text


def test_shapley_over_15_channels_warns_and_runs_the_rest(tmp_path, capsys):
    target = tmp_path / "p.csv"
    pl.DataFrame({"path": [f"c{i:02d} > c{(i + 1) % 17:02d}" for i in range(17)], "conv": [1] * 17,
                  "null": [2] * 17}).write_csv(target)
    assert main(["attribute", str(target), *PATHS, "--json", "-"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert "shapley" not in out["models"] and "markov" in out["models"] and "shapley" in out["skipped"]
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "shapley skipped" in err[0] and "17 channels" in err[0]
    assert main(["attribute", str(target), *PATHS, "--model", "shapley", "--json", "-"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "at most 15" in err[0]


def _write(tmp_path: Path, frame: pl.DataFrame, name: str = "bad.csv") -> Path:
    target = tmp_path / name
    frame.write_csv(target)
    return target


BAD_PATHS = [
    ({"path": ["a>b", ""], "conv": [1, 1], "null": [0, 0]}, "empty path"),
    ({"path": ["a>b", "   "], "conv": [1, 1], "null": [0, 0]}, "empty path"),
    ({"path": ["a>>b"], "conv": [1], "null": [0]}, "empty channel name"),
    ({"path": ["a"], "conv": [-1], "null": [0]}, "negative counts"),
    ({"path": ["a"], "conv": [1], "null": [-3]}, "negative counts"),
]


@pytest.mark.parametrize(("data", "match"), BAD_PATHS)
def test_bad_paths_exit_2_with_one_line(tmp_path, capsys, data, match):
    target = _write(tmp_path, pl.DataFrame(data))
    out = tmp_path / "out.json"
    assert main(["attribute", str(target), *PATHS, "--json", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0] and err[0].startswith("experiments attribute: error:")
    assert not out.exists()


BAD_TOUCHES = [
    ({"journey_id": [1, 1, 2], "time": [0, 1, 0], "channel": ["a", "", "b"], "converted": [0, 0, 1]},
     "empty channel name"),
    ({"journey_id": [1, 1, 2], "time": [0, 1, 0], "channel": ["a", "b", "b"], "converted": [0, 1, 1]},
     "not constant within journey 1"),
    ({"journey_id": [1, None, 2], "time": [0, 1, 0], "channel": ["a", "b", "b"], "converted": [0, 0, 1]},
     "missing journey ids"),
    ({"journey_id": [1, 1, 2], "time": [0, None, 0], "channel": ["a", "b", "b"], "converted": [0, 0, 1]},
     "missing times"),
    ({"journey_id": [1, 1, 2], "time": [0, 1, 0], "channel": ["a", "b", "b"], "converted": [0, 0, 3]},
     "0/1"),
]


@pytest.mark.parametrize(("data", "match"), BAD_TOUCHES)
def test_bad_touches_exit_2_with_one_line(tmp_path, capsys, data, match):
    target = _write(tmp_path, pl.DataFrame(data))
    assert main(["attribute", str(target), *TOUCH, "--json", "-"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and match in err[0] and captured.out == ""


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--model", "u_shaped"], "one of"),
        (["--order", "0"], "--order"),
        (["--order", "x"], "--order"),
        (["--half-life", "-1"], "--half-life"),
        (["--path", "p"], "one input form"),
        (["--json", "/no/such/folder/x.json"], "does not exist"),
    ],
)
def test_bad_options_exit_2(touch_file, capsys, extra, match):
    assert main(["attribute", str(touch_file), *TOUCH, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0]


def test_missing_options_and_columns(touch_file, path_file, capsys):
    assert main(["attribute", str(touch_file), "--journey", "journey_id"]) == 2
    assert "--time" in capsys.readouterr().err
    assert main(["attribute", str(path_file), "--path", "path", "--conversions", "conv"]) == 2
    assert "--nulls" in capsys.readouterr().err
    assert main(["attribute", str(path_file), *PATHS, "--model", "time_decay"]) == 2
    assert "time_decay" in capsys.readouterr().err
    assert main(["attribute", str(touch_file), *TOUCH[:-1], "nope"]) == 2
    err = capsys.readouterr().err
    assert "'nope' is not in the file" in err and len(err.strip().splitlines()) == 1


def test_subprocess_entry_point(touch_file):
    done = subprocess.run([sys.executable, "-m", "experiments.cli", "attribute", str(touch_file), *TOUCH,
                           "--model", "markov", "--json", "-"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)["models"]) == {"markov"}


@pytest.mark.browser
def test_html_draws_offline_in_chromium(touch_file, tmp_path, chromium, capsys):
    page = tmp_path / "attribution.html"
    assert main(["attribute", str(touch_file), *TOUCH, "--value", "value", "--html", str(page)]) == 0
    text = page.read_text()
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']https?://", text)
    body = text[text.index("<body>"):]
    assert body.index('class="verdict"') < body.index('<div class="chart"') < body.index("<table")
    dom = re.sub(r"<script\b.*?</script>", "", dump_dom(chromium, page), flags=re.S)
    assert len(re.findall(r'<(?:canvas|svg)[^>]*class="marks"', dom)) == text.count('<div class="chart"') == 1


def test_simulated_log_through_the_command(tmp_path, capsys):
    """The journey simulator's log, written to parquet, gives the command the study's own numbers."""
    from experiments.simulate.journeys import draw_world, observed_log
    from experiments.studies.omnichannel.numbers import attribute_log
    from experiments.studies.omnichannel.scenario import OmnichannelScenario

    log = observed_log(draw_world(OmnichannelScenario.from_params({"n_customers": 20_000, "seed": 2})))
    target = tmp_path / "log.parquet"
    log.write_parquet(target)
    assert main(["attribute", str(target), *TOUCH, "--value", "value", "--json", "-"]) == 0
    out = _json(capsys)
    ref = attribute_log(log).to_dict()
    assert out["n_journeys"] == ref["n_journeys"] == log["journey_id"].n_unique()
    for m in MODELS:
        assert out["models"][m] == pytest.approx(ref["models"][m], rel=1e-12)


def test_summary_sentences():
    from experiments.models.attribution import attribute, journeys_from_lists
    from experiments.studies.attribution import summary_lines, text_table, verdict

    j = journeys_from_lists([["social", "email"], ["email"], ["social"], ["direct"]], [1, 1, 0, 1],
                            [0, 0, 3, 1])
    result = attribute(j, ["first_touch", "last_touch", "markov"])
    lines = summary_lines(result)
    assert lines[0] == "The models disagree most on social: from 0.0% of the credit (last touch) to 33.3% " \
                       "(first touch)."
    assert lines[1] == "7 journeys, 3 conversions, 3 channels; 3 models."
    assert "Last touch gives the most credit to email (66.7%)." in lines
    v = verdict(result)
    assert v.headline == lines[0] and v.tone == "neutral" and list(v.details) == lines[1:]
    table = text_table(result).splitlines()
    assert table[0].split() == ["channel", "first_touch", "last_touch", "markov", "removal_effect"]
    assert table[-1].split()[:4] == ["total", "3.00", "3.00", "3.00"]
    nothing = attribute(journeys_from_lists([["a"]], [0], [2]))
    assert summary_lines(nothing)[-1] == "Nothing converted: every model credits 0 to every channel."


def test_sep_names_itself_when_it_switches_input_form(touch_file, capsys):
    """--sep switches to path input: with touchpoint options the refusal names --sep, not a missing --path."""
    assert main(["attribute", str(touch_file), *TOUCH, "--sep", ">"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'--sep'" in err[0] and "path input" in err[0] and "--journey" in err[0]
    assert "None" not in err[0]
    assert main(["attribute", str(touch_file), "--sep", ">"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--sep '>' asks for path input" in err[0] and "None" not in err[0]
