"""``experiments uplift-eval FILE``: Qini and uplift areas of a score column (scikit-uplift 0.5's).

Example::

    experiments uplift-eval scored.parquet --arm segment --treatment "Womens E-Mail" \\
        --control "No E-Mail" --outcome visit --score uplift --k 0.3 --json -

Reads only the four columns it needs, lazily (CSV or parquet); rows of other arms are left out and
counted. Every output location is checked before any work; files are written atomically.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from experiments.commands import COMMANDS
from experiments.errors import ParameterError
from experiments.formatting import spec_or_na as na
from experiments.models.uplift.data import read_uplift_table
from experiments.models.uplift.metrics import uplift_metrics
from experiments.outputs import OUTPUT_RULE, check_output, write_results

__all__ = ["add_table_arguments", "evaluate_file", "register", "run", "summary_text"]

#: Keys of the JSON result, in order (a contract).
RESULT_KEYS = ("n_rows", "n_treatment", "n_control", "qini_auc", "uplift_auc", "uplift_at_k", "k", "curve")


def add_table_arguments(p: argparse.ArgumentParser, *, several: bool = False) -> None:
    """Add the experiment file and its columns, as ``uplift`` and ``uplift-eval`` both read them.

    ``several``: ``--treatment`` may be repeated (several treated arms against one control).
    """
    p.add_argument("file", metavar="FILE", help="CSV or parquet file, one row per customer")
    p.add_argument("--arm", required=True, metavar="COL", help="column with the arm label")
    if several:
        p.add_argument("--treatment", required=True, action="append", metavar="LABEL",
                       help="label of a treated arm; repeat for several arms against one control (each arm "
                       "is modelled against the control, and a multi-arm policy gives each customer the "
                       "arm with the highest predicted profit)")
    else:
        p.add_argument("--treatment", required=True, metavar="LABEL", help="label of the treated arm")
    p.add_argument("--control", required=True, metavar="LABEL", help="label of the control arm")
    p.add_argument("--outcome", required=True, metavar="COL", help="outcome column (0/1 or amounts)")


def register(subparsers: Any) -> None:
    """Add the ``uplift-eval`` parser."""
    p = subparsers.add_parser(
        "uplift-eval", help=COMMANDS["uplift-eval"],
        description="Evaluate an uplift score on a randomised experiment file (CSV or parquet): normalised "
        "Qini and uplift areas, uplift among the top k, and both curves at 101 shares. Same definitions "
        "as scikit-uplift 0.5 (qini_auc_score, uplift_auc_score, uplift_at_k strategy='overall'). "
        "Refused (one line on stderr, exit 2, nothing written): an unknown column; one column in two "
        "roles (arm, outcome, score); a file without rows; an absent arm label; an outcome or score that "
        "is not numeric or has missing, NaN or infinite values. " + OUTPUT_RULE,
    )
    add_table_arguments(p)
    p.add_argument("--score", required=True, metavar="COL", help="uplift score column (higher = treat first)")
    p.add_argument("--k", default="0.3", metavar="SHARE", help="top share for uplift at k, in (0, 1) (0.3)")
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON ('-' = standard output only)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=run)


def _share(name: str, value: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, "a share strictly between 0 and 1") from None
    if not (math.isfinite(x) and 0 < x < 1):
        raise ParameterError(name, value, "a share strictly between 0 and 1")
    return x


def evaluate_file(
    file: str, *, arm: str, treatment: str, control: str, outcome: str, score: str, k: float = 0.3
) -> dict[str, Any]:
    """Read, check and evaluate; the JSON-ready result."""
    table = read_uplift_table(file, arm=arm, treatment=treatment, control=control, outcome=outcome,
                              score=score)
    assert table.score is not None
    metrics = uplift_metrics(table.outcome, table.score, table.treatment, k=k)
    result = metrics.to_dict()
    return {key: result[key] for key in RESULT_KEYS if key != "curve"} | {
        "n_left_out": table.n_left_out, "outcome_kind": "binary" if table.binary else "continuous",
        "file": str(file), "arm": arm, "treatment": treatment, "control": control, "outcome": outcome,
        "score": score, "definitions": "scikit-uplift 0.5: qini_auc_score (negative_effect=True), "
        "uplift_auc_score, uplift_at_k (strategy='overall')",
        "curve": [{"share": p["share"], "qini": p["qini"], "uplift": p["uplift"],
                   "qini_random": p["qini_random"], "uplift_random": p["uplift_random"]}
                  for p in result["curve"]],
    }


def summary_text(r: dict[str, Any]) -> str:
    """The short readable summary printed without ``--json -``."""
    left = (f"; {r['n_left_out']:,} rows of other arms left out" if r["n_left_out"] else "")
    curve = {round(p["share"], 2): p for p in r["curve"]}
    marks = [s for s in (0.1, 0.2, 0.3, 0.5, 1.0) if s in curve]
    unit = "incremental outcomes" if r["outcome_kind"] == "binary" else "incremental outcome units"
    lines = [
        f"{r['n_rows']:,} rows: {r['n_treatment']:,} {r['treatment']!r}, {r['n_control']:,} "
        f"{r['control']!r}{left}",
        f"Qini coefficient {na(r['qini_auc'], '.4f')}, uplift AUC {na(r['uplift_auc'], '.4f')} "
        "(0 = random ranking, 1 = perfect)",
        f"uplift among the top {r['k']:.0%} by {r['score']!r}: {na(r['uplift_at_k'], '+.4g')} "
        f"(treated minus control mean {r['outcome']!r})",
        f"Qini curve ({unit} among the first share ranked, random ranking in brackets): "
        + ", ".join(f"{s:.0%}: {na(curve[s]['qini'], ',.1f')} ({na(curve[s]['qini_random'], ',.1f')})"
                    for s in marks),
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Handler of ``experiments uplift-eval``."""
    k = _share("k", args.k)
    json_path = check_output(args.json, option="--json", overwrite=args.overwrite, allow_stdout=True)
    result = evaluate_file(args.file, arm=args.arm, treatment=args.treatment, control=args.control,
                           outcome=args.outcome, score=args.score, k=k)
    text = json.dumps(result, indent=2)
    if write_results(text, json_path, json_option=args.json):
        return 0
    print(summary_text(result))
    return 0
