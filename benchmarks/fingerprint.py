"""Fingerprint every report's numbers, tables and chart specifications, to compare two trees.

Runs each study at its defaults in this process (scenario -> run -> result) and the ``analyze``,
``attribute`` and ``uplift`` commands on shipped data (their JSON and their HTML page), and prints a
JSON object ``{name: {"sha256": ..., "content": ...}}``. Two checkouts that draw the same reports give
the same JSON; ``--compare OTHER.json`` says which entries differ.

    .venv/bin/python benchmarks/fingerprint.py --out fingerprint.json
    .venv/bin/python benchmarks/fingerprint.py --compare fingerprint_before.json
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HILLSTROM = ROOT / "data/real/hillstrom/hillstrom.csv.gz"
#: Names altair numbers per process (``param_3``, ``view_7``): not part of what a chart shows.
_COUNTER_NAMES = re.compile(r"\b(param|view|selector|empty)_\d+\b")
#: The vega bundle inlined in every page (its size and version are not the report's content).
_BUNDLE = re.compile(r"<script>\s*/\*! vega.*?</script>", re.S)


def _plain(value: Any) -> Any:
    """JSON-ready, floats to 12 significant digits (multithreaded sums move the 15th)."""
    if isinstance(value, float):
        return float(f"{value:.12g}") if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _chart(chart: Any) -> Any:
    spec = json.dumps(chart.to_dict(), sort_keys=True, default=str)
    return _plain(json.loads(_COUNTER_NAMES.sub(r"\1_N", spec)))


def study_content(name: str) -> dict[str, Any]:
    """Everything a study's report shows, at its defaults."""
    from experiments.studies import registry

    study = registry.get(name)
    scenario = study.scenario.from_params({})
    result = study.run(scenario)
    content: dict[str, Any] = {
        "parameters": _plain(scenario.to_params()),
        "verdict": _plain(result.verdict().to_dict()),
        "figures": [_plain(f.to_dict()) for f in result.figures()],
        "tables": {k: _plain(t.to_dicts()) for k, t in result.tables().items()},
        "charts": {k: _chart(c) for k, c in result.charts().items()},
        "assumptions": list(result.assumptions()),
        "data_checks": list(result.data_checks()),
    }
    if hasattr(result, "headline_text"):
        content["headline_text"] = result.headline_text()
    if hasattr(result, "to_dict"):
        content["to_dict"] = _plain(json.loads(json.dumps(result.to_dict(), default=str)))
    return content


def _touches(folder: Path) -> Path:
    """A touchpoint file drawn with a fixed seed (the one ``tests/test_attribution_cli.py`` uses)."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(7)
    n = 2000
    lengths = rng.integers(1, 6, n)
    jid = np.repeat(np.arange(n), lengths)
    conv = rng.integers(0, 2, n)
    target = folder / "touches.parquet"
    pl.DataFrame({
        "journey_id": jid,
        "time": rng.random(jid.size) * 28,
        "channel": rng.choice(["direct", "email", "search", "social", "display"], jid.size),
        "converted": np.repeat(conv, lengths),
        "value": np.repeat(np.where(conv == 1, rng.gamma(2.0, 40.0, n).round(2), 0.0), lengths),
    }).sort(["journey_id", "time"]).write_parquet(target)
    return target


def command_content(argv: list[str]) -> dict[str, Any]:
    """The JSON and the HTML page (without the inlined vega bundle) a command writes."""
    from experiments.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(_touches(Path(tmp))) if a == "TOUCHES" else a for a in argv]
        out_json, out_html = Path(tmp, "out.json"), Path(tmp, "out.html")
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            status = main([*argv, "--json", str(out_json), "--html", str(out_html)])
        page = _BUNDLE.sub("<script>BUNDLE</script>", out_html.read_text())
        root = str(ROOT)  # the checkout's own path is not the report's content
        return {"status": status, "text": stdout.getvalue().replace(root, "<root>"),
                "json": _plain(json.loads(out_json.read_text().replace(root, "<root>"))),
                "page": _COUNTER_NAMES.sub(r"\1_N", page.replace(root, "<root>"))}


COMMANDS: dict[str, list[str]] = {
    "analyze": ["analyze", str(HILLSTROM), "--arm", "segment", "--control", "No E-Mail",
                "--metric", "conversion", "--metric", "spend", "--covariate", "history",
                "--segment", "channel"],
    "attribute": ["attribute", "TOUCHES", "--journey", "journey_id", "--time", "time", "--channel", "channel",
                  "--converted", "converted", "--value", "value"],
    "uplift": ["uplift", str(HILLSTROM), "--arm", "segment", "--treatment", "Womens E-Mail",
               "--control", "No E-Mail", "--outcome", "visit", "--feature", "recency", "--feature", "history",
               "--feature", "mens", "--feature", "womens", "--feature", "zip_code", "--feature", "newbie",
               "--feature", "channel", "--bootstrap", "50"],
}


def fingerprint(names: list[str] | None = None) -> dict[str, Any]:
    """``{name: {sha256, content}}`` for every study and command page (or only ``names``)."""
    from experiments.studies import registry

    wanted = names or [*registry.names(), *COMMANDS]
    out: dict[str, Any] = {}
    for name in wanted:
        print(f"fingerprint: {name}", file=sys.stderr)
        content = command_content(COMMANDS[name]) if name in COMMANDS else study_content(name)
        text = json.dumps(content, sort_keys=True)
        out[name] = {"sha256": hashlib.sha256(text.encode()).hexdigest(), "content": content}
    return out


def main() -> int:
    """Print (or write) the fingerprint; with --compare, compare it to an earlier one."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="write the JSON here (default: standard output)")
    ap.add_argument("--compare", type=Path, help="an earlier fingerprint JSON to compare with")
    ap.add_argument("--only", action="append", help="fingerprint only this study or command")
    args = ap.parse_args()
    fp = fingerprint(args.only)
    text = json.dumps(fp, sort_keys=True, indent=1)
    if args.out:
        args.out.write_text(text)
    elif not args.compare:
        print(text)
    if args.compare:
        before = json.loads(args.compare.read_text())
        same = True
        for name, entry in fp.items():
            old = before.get(name, {}).get("sha256")
            verdict = "identical" if old == entry["sha256"] else "DIFFERENT"
            same &= old == entry["sha256"]
            print(f"{name:16} {entry['sha256'][:16]}  {verdict}")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
