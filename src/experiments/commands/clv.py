"""``experiments clv``: BG/NBD and Gamma-Gamma fits on a real transaction log (CSV or parquet).

Example::

    experiments clv transactions.csv --customer customer_id --date date --amount amount \\
        --calibration-end 1997-09-30 --holdout-end 1998-06-30 --time-unit week --json -
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from experiments.outputs import OUTPUT_RULE

__all__ = ["handler", "register", "run_clv"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``clv`` parser."""
    p = subparsers.add_parser(
        "clv",
        help="fit BG/NBD and Gamma-Gamma to a transaction log",
        description="Fit BG/NBD (purchases) and Gamma-Gamma (order value) to a transaction log, "
        "one row per transaction; optionally check the purchase model on a holdout period. "
        "Refused (one line on stderr, exit 2, nothing written): a missing, empty or unreadable file; a "
        "file with a header but no rows; an unknown column; one column for two of --customer, --date "
        "and --amount; a missing customer id; a date that is missing or does not parse (YYYY-MM-DD, "
        "YYYYMMDD, YYYY/MM/DD, DD/MM/YYYY, MM/DD/YYYY, optionally with a time); an amount that is "
        "missing, not a number, NaN, infinite or negative; a calibration end outside the dates. "
        "With --db URL and --table NAME (or --query SQL) in place of FILE, the per-customer summary "
        "(frequency, recency, T, monetary value) is computed by the database in SQL (DuckDB embedded, "
        "PostgreSQL, any engine Ibis connects to), the same numbers as from a file; the date column must "
        "then be a DATE or TIMESTAMP. "
        + OUTPUT_RULE,
    )
    p.add_argument("file", nargs="?", help="transaction log, .csv or .parquet (or --db instead)")
    p.add_argument("--db", metavar="URL", help="read the transactions from a database instead of FILE: an "
                   "Ibis URL, e.g. duckdb://file.duckdb or postgres://user:pass@host:5432/db")
    p.add_argument("--table", metavar="NAME", help="with --db: the transaction table (one in another schema: "
                   "--query 'SELECT * FROM schema.table')")
    p.add_argument("--query", metavar="SQL", help="with --db: a query whose result is the transaction table")
    p.add_argument("--customer", required=True, help="customer id column")
    p.add_argument("--date", required=True, help="transaction date column")
    p.add_argument("--amount", required=True, help="transaction amount column")
    p.add_argument("--calibration-end", required=True, help="last day of the calibration period, YYYY-MM-DD")
    p.add_argument("--holdout-end", help="last day of the holdout period, YYYY-MM-DD")
    p.add_argument("--time-unit", default="week", help="day or week (default week)")
    p.add_argument("--pareto", action="store_true", help="also fit the Pareto/NBD model")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH, or to stdout with -")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    p.set_defaults(func=handler)


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def run_clv(
    file: str | Path,
    *,
    customer: str,
    date: str,
    amount: str,
    calibration_end: str,
    holdout_end: str | None = None,
    time_unit: str = "week",
    pareto: bool = False,
    db: str | None = None,
    table: str | None = None,
    query: str | None = None,
) -> dict[str, Any]:
    """Load, summarise and fit; return the JSON-ready result (raises on bad input or no convergence).

    With ``db`` (and ``table`` or ``query``; ``file`` unused) the per-customer summary is one SQL
    query in that database (:func:`experiments.stats.database.rfm_summary_db`).
    """
    from experiments.models.clv import fit_bgnbd, fit_gamma_gamma, fit_pareto_nbd
    from experiments.transactions import load_transactions, parse_date, rfm_summary
    from experiments.validation import as_choice

    unit = as_choice("time_unit", time_unit, ("day", "week"))
    cal_end = parse_date("calibration_end", calibration_end)
    hold_end = parse_date("holdout_end", holdout_end) if holdout_end is not None else None
    if db is not None:
        from experiments.stats.database import open_table, rfm_summary_db

        source = open_table(db, table=table, query=query)
        n_transactions, rfm = rfm_summary_db(source, customer=customer, date=date, amount=amount,
                                             calibration_end=cal_end, holdout_end=hold_end,
                                             time_unit=unit)  # type: ignore[arg-type]
    else:
        tx = load_transactions(file, customer=customer, date=date, amount=amount)
        n_transactions = tx.height
        rfm = rfm_summary(tx, calibration_end=cal_end, holdout_end=hold_end, time_unit=unit)  # type: ignore[arg-type]
    f = rfm.frame
    x, tx_, big_t = f["frequency"].to_numpy(), f["recency"].to_numpy(), f["T"].to_numpy()
    bg = fit_bgnbd(x, tx_, big_t)
    gg = fit_gamma_gamma(x, f["monetary_value"].to_numpy())
    out: dict[str, Any] = {
        "file": None if db is not None else str(file),
        "n_transactions": n_transactions,
        "n_customers": rfm.n_customers,
        "n_repeat_customers": rfm.n_repeat_customers,
        "first_date": str(rfm.first_date),
        "last_date": str(rfm.last_date),
        "calibration_end": str(cal_end),
        "time_unit": unit,
        "bgnbd": {k: _clean(getattr(bg, k)) for k in ("r", "alpha", "a", "b", "log_likelihood")},
        "gamma_gamma": {
            "p": gg.p,
            "q": gg.q,
            "v": gg.v,
            "log_likelihood": gg.log_likelihood,
            "n_customers": gg.n_customers,
            "mean_order_value": _clean(gg.mean_order_value),
        },
    }
    if db is not None:
        out["database"] = source.to_dict()
    if pareto:
        pn = fit_pareto_nbd(x, tx_, big_t)
        out["pareto_nbd"] = {k: getattr(pn, k) for k in ("r", "alpha", "s", "beta", "log_likelihood")}
    if hold_end is not None:
        length = rfm.holdout_length
        predicted = bg.conditional_expected_purchases(length, x, tx_, big_t)
        actual = f["holdout_purchases"].to_numpy()
        out["holdout"] = {
            "holdout_end": str(hold_end),
            "length": length,
            "predicted_repeat_purchases": float(predicted.sum()),
            "actual_repeat_purchases": int(actual.sum()),
            "relative_error": float(predicted.sum() / actual.sum() - 1) if actual.sum() else None,
            "mean_absolute_error_per_customer": float(abs(predicted - actual).mean()),
        }
        if pareto:
            pp = pn.conditional_expected_purchases(length, x, tx_, big_t)
            out["holdout"]["pareto_nbd_predicted_repeat_purchases"] = float(pp.sum())
    return out


def _summary_text(r: dict[str, Any]) -> str:
    bg, gg = r["bgnbd"], r["gamma_gamma"]
    lines = [
        f"{r['n_transactions']:,} transactions, {r['n_customers']:,} customers "
        f"({r['n_repeat_customers']:,} with a repeat purchase) up to {r['calibration_end']} "
        f"(time unit: {r['time_unit']})",
        f"BG/NBD      r={bg['r']:.4f} alpha={bg['alpha']:.4f} a={bg['a']:.4f} b={bg['b']:.4f} "
        f"log-likelihood {bg['log_likelihood']:.2f}",
        f"Gamma-Gamma p={gg['p']:.4f} q={gg['q']:.4f} v={gg['v']:.4f} "
        f"(mean order value {gg['mean_order_value'] or float('inf'):.2f})",
    ]
    if "database" in r:
        d = r["database"]
        what = f"table {d['table']!r}" if d["table"] is not None else "query"
        lines.insert(0, f"Summarised per customer in the database: {what} in {d['url']}")
    if "pareto_nbd" in r:
        pn = r["pareto_nbd"]
        lines.append(
            f"Pareto/NBD  r={pn['r']:.4f} alpha={pn['alpha']:.4f} s={pn['s']:.4f} beta={pn['beta']:.4f} "
            f"log-likelihood {pn['log_likelihood']:.2f}"
        )
    if "holdout" in r:
        h = r["holdout"]
        lines.append(
            f"Holdout to {h['holdout_end']} ({h['length']:.1f} {r['time_unit']}s): predicted "
            f"{h['predicted_repeat_purchases']:,.1f} repeat purchases, "
            f"actual {h['actual_repeat_purchases']:,}"
        )
    return "\n".join(lines)


def handler(args: argparse.Namespace) -> int:
    """Run ``experiments clv``; returns the exit status."""
    from experiments.errors import ParameterError
    from experiments.outputs import atomic_write_text, check_output

    if (args.file is None) == (args.db is None):
        from experiments.stats.database import redact

        raise ParameterError("db", args.db and redact(args.db), "exactly one of FILE or --db URL")
    for name in ("table", "query"):
        if args.db is None and getattr(args, name) is not None:
            raise ParameterError(name, getattr(args, name), "nothing without --db URL")
    json_out = check_output(args.json, option="--json", overwrite=args.overwrite, allow_stdout=True)
    result = run_clv(
        args.file,
        customer=args.customer,
        date=args.date,
        amount=args.amount,
        calibration_end=args.calibration_end,
        holdout_end=args.holdout_end,
        time_unit=args.time_unit,
        pareto=args.pareto,
        db=args.db,
        table=args.table,
        query=args.query,
    )
    if args.json == "-":
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(result, indent=2) + "\n")
    print(_summary_text(result))
    return 0
