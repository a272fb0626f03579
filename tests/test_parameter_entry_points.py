"""Every parameter takes every value its rule allows, from every entry point.

A value reaches a study's scenario four ways, and each must give the same scenario:
- ``experiments run -p NAME VALUE``: read by the parameter's declared type, handed to papermill, injected
  by papermill's translator after the parameters cell, validated by the notebook's validation cell
  (``Scenario.from_namespace``);
- ``experiments sweep -g NAME=V1,V2``: the same, through the grid;
- plain ``papermill -p NAME VALUE``: papermill reads the text itself (``0.35`` becomes a float, ``058875``
  an integer) and injects that;
- JupyterLab: the line of the parameters cell edited to a literal (``policy_share: str = 0.35``).

:func:`walk` finds a valid non-default value for every declared parameter of every study (the next
integer, a number a tenth away, the other boolean, another option, or the value listed in
:data:`TEXT_VALUES`) and checks the four ways on the scenario directly (the exact code each path runs,
without a kernel: fast). Then, once per study, a real ``papermill ... -k python3`` run of the
notebook's parameters and validation cells with many of those values at once, and a real targeting sweep
over ``policy_share``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from papermill.cli import _resolve_type
from papermill.translators import translate_parameters

from experiments.commands.run import coerce_cli_value, parameter_kinds, parse_overrides
from experiments.errors import ExperimentsError
from experiments.paths import ASOS_PARQUET, HILLSTROM_CSV, NOTEBOOKS_DIR
from experiments.runs.sweeps import build_grid, parse_axis
from experiments.scenarios.params import Param
from experiments.studies import registry

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
_SCRATCH = tempfile.TemporaryDirectory(prefix="experiments-entry-points-")  # removed when the tests end
_HILLSTROM_COPY = Path(_SCRATCH.name) / "hillstrom_campaign.csv"


def _hillstrom_copy() -> str:
    """A Hillstrom subset whose arm column is called ``campaign`` (for a non-default ``arm``)."""
    if not _HILLSTROM_COPY.exists():
        frame = pl.read_csv(HILLSTROM_CSV, infer_schema_length=None).head(4000)
        frame.rename({"segment": "campaign"}).write_csv(_HILLSTROM_COPY)
    return str(_HILLSTROM_COPY)


#: Valid non-default values of the text parameters whose rule is not a list of options, as typed on a
#: command line; a mapping gives the companions a value needs (a file whose arm column has another name).
TEXT_VALUES: dict[tuple[str, str], Any] = {
    ("remarketing", "channels"): "display,email",
    ("remarketing", "arm_shares"): "holdout:0.1,generic:0.3,dynamic:0.3,dynamic_incentive:0.3",
    ("remarketing", "channel_strength"): "sms:2,email:1",
    ("remarketing", "channel_intrusiveness"): "sms:1",
    ("remarketing", "channel_half_life"): "email:3",
    ("targeting", "channels"): "display,email",
    ("targeting", "other_learners"): "s",
    ("targeting", "policy_share"): "0.35",
    ("targeting", "offers"): "reminder,discount",
    ("real_experiment", "path"): lambda: str(HILLSTROM_CSV.resolve()),
    ("real_experiment", "arm"): lambda: {"path": _hillstrom_copy(), "arm": "campaign"},
    ("real_experiment", "control"): "Mens E-Mail",
    ("real_experiment", "metrics"): "visit,spend",
    ("real_experiment", "covariate"): "recency",
    ("real_experiment", "segments"): "channel",
    ("real_experiment", "decision_metric"): "visit",
    ("real_experiment", "uplift_treatment"): "Mens E-Mail",
    ("real_experiment", "uplift_outcome"): "spend",
    ("real_experiment", "uplift_features"): "recency,history",
    ("calibration", "asos_path"): lambda: str(ASOS_PARQUET.resolve()),
    ("calibration", "asos_experiment"): "058875",  # all digits: plain papermill hands it over as 58875
    ("calibration", "asos_variant"): {"asos_experiment": "036afc", "asos_variant": "2"},  # 08bcc2 has one
    ("omnichannel", "budget_channels"): "display,social",
    ("omnichannel", "plan_channels"): "display,social,search_nonbrand",
    ("omnichannel", "targeting"): "display:push",
    ("omnichannel", "reach"): "display:0.6",
    ("omnichannel", "audience_tilt"): "social:0.0",
    ("omnichannel", "frequency"): "display:20.0",
    ("omnichannel", "capture"): "display:0.4",
    ("omnichannel", "lift"): "display:0.1",
    ("omnichannel", "half_life"): "display:3.0",
    ("omnichannel", "unit_cost"): "display:0.01",
    ("omnichannel", "experiment_design"): "display:geo",
    ("omnichannel", "synergy_channels"): "email",
    ("omnichannel", "factorial_channels"): "display,email",
}


def _candidates(p: Param) -> Iterator[str]:
    """Values to try for ``p``, as typed on a command line (the first valid one is walked)."""
    d = p.default
    if p.kind == "bool":
        yield str(not d)
    elif p.kind == "int":
        yield from (str(v) for v in (d + 1, d - 1, d * 2, d // 2) if v != d)
    elif p.kind == "float":
        for v in (round(d * 1.1, 6), round(d * 0.9, 6), d + 0.01, d - 0.01, 0.5, 0.1, 1.0, 0.0):
            if v != d:
                yield repr(float(v))
    elif p.allowed.startswith("one of "):
        yield from (o for o in p.allowed[len("one of "):].split(", ") if o != d)


def walk(study: str) -> dict[str, dict[str, str]]:
    """``{parameter: {name: text}}``: one valid non-default value for each parameter of ``study`` (with its
    companions), as typed on a command line."""
    scenario = registry.get(study).scenario
    default = scenario.from_params({})
    out: dict[str, dict[str, str]] = {}
    for p in scenario.parameters:
        listed = TEXT_VALUES.get((study, p.name))
        listed = listed() if callable(listed) else listed
        tries = [listed] if listed is not None else list(_candidates(p))
        for value in tries:
            values = dict(value) if isinstance(value, Mapping) else {p.name: value}
            try:
                got = scenario.from_params(parse_overrides(list(values.items()), parameter_kinds(study)))
            except ExperimentsError:
                continue
            if got != default:
                out[p.name] = values
                break
    return out


def _cell_literal(text: str) -> str:
    """What a person types in the parameters cell for ``text``: a number as a number (a float literal for
    ``0.35``), else a string (``'058875'``: Python has no integer literal with a leading zero)."""
    return text if re.fullmatch(r"-?(0|[1-9]\d*)(\.\d+)?(e-?\d+)?|True|False", text) else repr(text)


def _injected(study: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The notebook's globals after its parameters cell and papermill's injected cell for ``values``."""
    namespace: dict[str, Any] = {}
    exec(registry.get(study).parameters_cell(), namespace)
    exec(translate_parameters("python3", "python", dict(values), "Parameters"), namespace)
    return namespace


def _four_ways(study: str, values: Mapping[str, str]) -> list[Any]:
    """The scenario each entry point builds from ``values`` (texts as typed)."""
    spec = registry.get(study)
    kinds = parameter_kinds(study)
    run = parse_overrides(list(values.items()), kinds)
    (name, text), *others = values.items()
    # a value holding commas is swept as -g 'NAME=V1;V2' (here beside the default)
    swept_text = f"{name}={text};{spec.scenario.defaults[name]}" if "," in text else f"{name}={text}"
    axis = parse_axis(swept_text, partial(coerce_cli_value, kind=kinds.get(name)))
    grid = build_grid(study, [axis], parse_overrides([list(kv) for kv in others], kinds))
    swept = grid.parameters(grid.points()[0])
    papermill = {k: _resolve_type(v) for k, v in values.items()}
    cell = spec.parameters_cell().splitlines()
    for k, v in values.items():
        kind = kinds[k]
        cell = [f"{k}: {kind} = {_cell_literal(v)}" if line.startswith(f"{k}: ") else line for line in cell]
    lab: dict[str, Any] = {}
    exec("\n".join(cell), lab)
    build = spec.scenario.from_namespace
    return [build(_injected(study, run)), build(_injected(study, swept)), build(_injected(study, papermill)),
            build(lab)]


STUDIES = registry.names()
WALKED: dict[str, dict[str, dict[str, str]]] = {}


def _walked(study: str) -> dict[str, dict[str, str]]:
    if study not in WALKED:
        WALKED[study] = walk(study)
    return WALKED[study]


@pytest.mark.parametrize("study", STUDIES)
def test_every_parameter_takes_a_non_default_value_from_every_entry_point(study: str) -> None:
    spec = registry.get(study)
    walked = _walked(study)
    missing = [p.name for p in spec.scenario.parameters if p.name not in walked]
    assert not missing, f"{study}: no valid non-default value found for {missing}; add one to TEXT_VALUES"
    default = spec.scenario.from_params({})
    for name, values in walked.items():
        run, sweep, papermill, lab = _four_ways(study, values)
        assert run != default, (study, name)
        assert run == sweep == papermill == lab, (study, name, values)
    print(f"{study}: {len(walked)} of {len(spec.scenario.parameters)} parameters walked")


def test_policy_share_from_every_entry_point() -> None:
    """The reported case: ``auto, or a share of customers in (0, 1]`` takes 0.35 as text and as a float."""
    scenario = registry.get("targeting").scenario
    for value in ("0.35", 0.35, " 0.35 "):
        assert scenario.from_params({"policy_share": value}).fixed_share == 0.35
    assert scenario.from_params({"policy_share": 1}).fixed_share == 1.0
    for bad in (0, 0.0, 1.5, "-0.2", True, "half"):
        with pytest.raises(ExperimentsError, match="policy_share"):
            scenario.from_params({"policy_share": bad})


def test_text_parameters_keep_the_text_typed_on_the_command_line() -> None:
    assert parse_overrides([["asos_experiment", "058875"]], parameter_kinds("calibration")) == {
        "asos_experiment": "058875"}
    assert parse_overrides([["n_customers", "2000"]], parameter_kinds("remarketing")) == {"n_customers": 2000}
    calibration = registry.get("calibration").scenario
    assert calibration.from_params({"asos_experiment": 58875}).asos_experiment == "058875"


def _validation_notebook(study: str, folder: Path) -> Path:
    """The study's notebook cut to its parameters and validation cells, printing the scenario's parameters."""
    nb = json.loads((NOTEBOOKS_DIR / f"{study}.ipynb").read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"][:2]
    assert "parameters" in cells[0]["metadata"].get("tags", [])
    assert "from_namespace" in "".join(cells[1]["source"])
    cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                  "source": "import json\nprint(json.dumps(scenario.to_params(), default=str))"})
    nb["cells"] = cells
    target = folder / f"{study}.ipynb"
    target.write_text(json.dumps(nb), encoding="utf-8")
    return target


def _together(study: str) -> dict[str, str]:
    """As many walked values as validate together (cross-parameter rules keep some apart)."""
    scenario = registry.get(study).scenario
    kinds = parameter_kinds(study)
    chosen: dict[str, str] = {}
    for values in _walked(study).values():
        trial = {**chosen, **values}
        try:
            scenario.from_params(parse_overrides(list(trial.items()), kinds))
        except ExperimentsError:
            continue
        chosen = trial
    return chosen


def test_plain_papermill_runs_every_study_with_non_default_values(tmp_path: Path) -> None:
    """``papermill NOTEBOOK OUT -k python3 -p NAME VALUE ...`` (papermill reads the values itself) gives the
    scenario ``experiments run`` validates, for every study, with many parameters changed at once."""

    def one(study: str) -> tuple[str, dict[str, str], subprocess.CompletedProcess[str]]:
        values = _together(study)
        source = _validation_notebook(study, tmp_path)
        args = [a for k, v in values.items() for a in ("-p", k, v)]
        done = subprocess.run([str(BIN / "papermill"), str(source), str(tmp_path / f"{study}.out.ipynb"),
                               "-k", "python3", "--no-progress-bar", "--cwd", str(NOTEBOOKS_DIR), *args],
                              capture_output=True, text=True, timeout=300, env={**os.environ, "CI": "true"})
        return study, values, done

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(one, STUDIES))
    for study, values, done in results:
        assert done.returncode == 0, (study, done.stderr[-2000:])
        out = json.loads((tmp_path / f"{study}.out.ipynb").read_text(encoding="utf-8"))
        printed = "".join(out["cells"][-1]["outputs"][0]["text"])
        expected = registry.get(study).scenario.from_params(parse_overrides(list(values.items()),
                                                                            parameter_kinds(study)))
        assert json.loads(printed) == json.loads(json.dumps(expected.to_params(), default=str)), study
        assert len(values) >= 5, (study, values)


def test_targeting_sweep_over_policy_share(tmp_path: Path) -> None:
    """``experiments sweep targeting -g policy_share=0.2,0.35``: both points run, and the first line names
    the figure the points are ranked by (the uplift policy's, never the oracle's)."""
    done = subprocess.run([sys.executable, "-m", "experiments.cli", "sweep", "targeting", "-g",
                           "policy_share=0.2,0.35", "-p", "n_customers", "8000", "--workers", "2",
                           "--reports-dir", str(tmp_path)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CI": "true"})
    assert done.returncode == 0, done.stderr
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith("Best of 2 points by the uplift policy's incremental profit per 1,000 customers "
                            "(policy_profit, group uplift): policy_share = 0."), first
    meta = json.loads((Path(done.stdout.strip().splitlines()[-1]).parent / "sweep.json").read_text())
    assert [p["point"]["policy_share"] for p in meta["points"]] == ["0.2", "0.35"]
    assert not any(p.get("error") for p in meta["points"])
    assert meta["best"]["figure"]["group"] == "uplift" and meta["sweep_figure"]["group"] == "uplift"
    uplift = {p["index"]: f["estimate"] for p in meta["points"] for f in p["headline"]["figures"]
              if f["name"] == "policy_profit" and f["group"] == "uplift"}
    assert meta["best"]["index"] == max(uplift, key=uplift.get)


def test_text_like_rules_take_what_reads_as_a_number() -> None:
    """The class of the policy_share case: text, one-of and list rules whose values may read as numbers take
    them as papermill and a parameters cell hand them over (an int, a float), and still refuse booleans,
    non-finite numbers and None."""
    from experiments.scenarios import params as P

    text = P.text("label", "a", "h")
    choice = P.choice("period", "7", "h", ("7", "30", "0.5"))
    many = P.choices("days", "7", "h", ("7", "30"))
    assert text.parse(12) == "12" and text.parse(0.35) == "0.35" and text.parse(" x ") == "x"
    assert choice.parse(30) == "30" and choice.parse(0.5) == "0.5" and many.parse(30) == ("30",)
    for param in (text, choice, many):
        for bad in (True, float("nan"), None):
            with pytest.raises(ExperimentsError, match=repr(param.name)):
                param.parse(bad)
