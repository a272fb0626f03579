"""``experiments clv``: customer lifetime value models on a transaction log, a cohort survival table or a
table of discrete purchase opportunities (CSV or parquet).

Examples::

    experiments clv transactions.csv --customer customer_id --date date --amount amount \\
        --calibration-end 1997-09-30 --holdout-end 1998-06-30 --time-unit week --model bgnbd --model mbgnbd
    experiments clv retention.csv --kind survival --cohort segment --period year --survivors survivors \\
        --fit-periods 7 --horizon 12 --discount-rate 0.1
    experiments clv donations.csv.gz --kind opportunities --frequency frequency --recency recency \\
        --opportunities periods --weight weights --horizon 5
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from experiments.commands import COMMANDS
from experiments.errors import DataError, FitError, ParameterError
from experiments.models.clv import fit_bgbb, fit_purchases, fit_sbg, fit_spend
from experiments.outputs import OUTPUT_RULE, atomic_write_text, check_output
from experiments.plain import plain
from experiments.stats.database import check_source, open_table, redact, rfm_summary_db
from experiments.transactions import load_columns, load_transactions, parse_date, rfm_summary
from experiments.validation import as_choice, as_float, as_int

__all__ = ["KINDS", "handler", "register", "run_clv", "run_clv_opportunities", "run_clv_survival"]

#: What the input file holds, and the options that belong to each kind only.
KINDS = {
    "transactions": ("customer", "date", "amount", "calibration_end", "holdout_end", "time_unit", "model",
                     "pareto"),
    "survival": ("period", "survivors", "cohort", "fit_periods", "discount_rate"),
    "opportunities": ("frequency", "recency", "opportunities", "weight"),
}
_PURCHASE_KEYS = {"bgnbd": "bgnbd", "mbgnbd": "mbgnbd", "paretonbd": "pareto_nbd"}
_LABELS = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "paretonbd": "Pareto/NBD"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``clv`` parser."""
    p = subparsers.add_parser(
        "clv",
        help=COMMANDS["clv"],
        description="Fit customer lifetime value models. --kind transactions (default): a transaction log, "
        "one row per transaction; purchase models (--model bgnbd, mbgnbd, paretonbd) and Gamma-Gamma "
        "(order value, on the repeat customers whose repeat purchases have a positive value: those with "
        "value 0 are left out, counted and warned about); optionally checked on a holdout period. When a "
        "purchase model's maximum lies at the edge of its parameter space, its limiting model is fitted "
        "and named instead (NBD when nobody drops out, NBD with one dropout probability for everyone, "
        "NBD with a one-off dropout share, Poisson), with a warning. --kind survival: a cohort table "
        "(period 0, 1, 2, ... and the customers "
        "still there), fitted by the shifted-beta-geometric (sBG) model per cohort, projected to "
        "--horizon periods. --kind opportunities: one row per customer (or per group of identical "
        "customers, --weight) with transactions, the opportunity of the last one and the number of "
        "opportunities, fitted by BG/BB. A model that cannot be fitted is reported with a warning and "
        "the others still are. "
        "Refused (one line on stderr, exit 2, nothing written): a missing, empty or unreadable file; a "
        "file with a header but no rows; an unknown column; one column for two roles; an option of "
        "another --kind; a missing customer id; a date that is missing or does not parse (YYYY-MM-DD, "
        "YYYYMMDD, YYYY/MM/DD, DD/MM/YYYY, MM/DD/YYYY, optionally with a time); an amount that is "
        "missing, not a number, NaN, infinite or negative; a calibration end outside the dates or on every "
        "customer's first day; survivors that rise, periods that are not 0, 1, 2, ..., or fewer than 2 "
        "periods to fit; opportunities rows with recency outside [frequency, opportunities]. "
        "With --db URL and --table NAME (or --query SQL) in place of FILE (--kind transactions), the "
        "per-customer summary (frequency, recency, T, monetary value) is computed by the database in SQL "
        "(DuckDB embedded, PostgreSQL, any engine Ibis connects to), the same numbers as from a file; the "
        "date column must then be a DATE or TIMESTAMP. "
        + OUTPUT_RULE,
    )
    p.add_argument("file", nargs="?",
                   help="transaction log, survival table or opportunities table: .csv, .csv.gz or .parquet "
                   "(or --db instead, for a transaction table)")
    p.add_argument("--db", metavar="URL", help="read the transactions from a database instead of FILE: an "
                   "Ibis URL, e.g. duckdb://file.duckdb or postgres://user:pass@host:5432/db")
    p.add_argument("--table", metavar="NAME", help="with --db: the transaction table (one in another schema: "
                   "--query 'SELECT * FROM schema.table')")
    p.add_argument("--query", metavar="SQL", help="with --db: a query whose result is the transaction table")
    p.add_argument("--kind", default="transactions",
                   help="what FILE holds: transactions (default), survival or opportunities")
    g = p.add_argument_group("--kind transactions")
    g.add_argument("--customer", help="customer id column")
    g.add_argument("--date", help="transaction date column")
    g.add_argument("--amount", help="transaction amount column")
    g.add_argument("--calibration-end", help="last day of the calibration period, YYYY-MM-DD")
    g.add_argument("--holdout-end", help="last day of the holdout period, YYYY-MM-DD")
    g.add_argument("--time-unit", help="day or week (default week)")
    g.add_argument("--model", action="append",
                   help="purchase model: bgnbd (default), mbgnbd or paretonbd; repeat for several (the "
                   "first drives the holdout figures)")
    g.add_argument("--pareto", action="store_true", default=None,
                   help="also fit Pareto/NBD (= --model paretonbd)")
    g = p.add_argument_group("--kind survival (sBG)")
    g.add_argument("--period", help="period column: 0 for the cohort's start, then 1, 2, ...")
    g.add_argument("--survivors", help="column of the customers still there at each period")
    g.add_argument("--cohort", help="cohort column (optional): one sBG fit per cohort")
    g.add_argument("--fit-periods",
                   help="fit on periods 1..N only (default all); the rest checks the projection")
    g.add_argument("--discount-rate", help="per period, for the discounted expected lifetimes (default 0.1)")
    g = p.add_argument_group("--kind opportunities (BG/BB)")
    g.add_argument("--frequency", help="column of transactions among the opportunities")
    g.add_argument("--recency", help="column of the opportunity of the last transaction (0 without one)")
    g.add_argument("--opportunities", help="column of the number of opportunities")
    g.add_argument("--weight", help="column of how many customers each row stands for (optional)")
    p.add_argument("--horizon",
                   help="survival: periods to project (default 12); opportunities: future opportunities "
                   "to predict (default 5)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH, or to stdout with -")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    p.set_defaults(func=handler)


def _fit_or_warn(name: str, fit, warnings: list[str], *, data_too: bool = False):
    """``fit()``, or None with a warning line when the model cannot be fitted (a FitError; with
    ``data_too`` also a DataError, e.g. too few customers for it)."""
    try:
        return fit(), None
    except (DataError, FitError) as exc:
        if isinstance(exc, DataError) and not data_too:
            raise
        warnings.append(f"{name} not fitted: {exc}")
        return None, str(exc)


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
    models: tuple[str, ...] | list[str] | None = None,
    db: str | None = None,
    table: str | None = None,
    query: str | None = None,
) -> dict[str, Any]:
    """Load, summarise and fit; return the JSON-ready result (raises on bad input, or when no purchase
    model could be fitted).

    With ``db`` (and ``table`` or ``query``; ``file`` unused) the per-customer summary is one SQL
    query in that database (:func:`experiments.stats.database.rfm_summary_db`).

    ``models`` are purchase models by name (``bgnbd``, ``mbgnbd``, ``paretonbd``; default ``bgnbd``),
    ``pareto`` adds ``paretonbd``. A model whose maximum lies at the edge of its parameter space is
    replaced by its limiting model (``limit`` in its entry, and a line in ``warnings``); one that cannot
    be fitted at all gets an ``error`` entry and a warning, and the others still run.
    """
    unit = as_choice("time_unit", time_unit, ("day", "week"))
    chosen = [as_choice("model", m, tuple(_PURCHASE_KEYS)) for m in (models or ["bgnbd"])]
    if pareto:
        chosen.append("paretonbd")
    chosen = list(dict.fromkeys(chosen))
    cal_end = parse_date("calibration_end", calibration_end)
    hold_end = parse_date("holdout_end", holdout_end) if holdout_end is not None else None
    if db is not None:
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
    if not (big_t > 0).any():
        raise ParameterError("calibration_end", str(cal_end), "a date after some customer's first purchase "
                             "day (every customer's calibration period T is 0 up to it: nothing to fit)")
    warnings: list[str] = []
    out: dict[str, Any] = {
        "file": None if db is not None else str(file),
        "n_transactions": n_transactions,
        "n_customers": rfm.n_customers,
        "n_repeat_customers": rfm.n_repeat_customers,
        "first_date": str(rfm.first_date),
        "last_date": str(rfm.last_date),
        "calibration_end": str(cal_end),
        "time_unit": unit,
        "models": chosen,
    }
    if db is not None:
        out["database"] = source.to_dict()
    fits = {}
    for m in chosen:
        fit, error = _fit_or_warn(_LABELS[m], lambda m=m: fit_purchases(m, x, tx_, big_t), warnings)
        if fit is None:
            out[_PURCHASE_KEYS[m]] = {"model": _LABELS[m], "error": error}
            continue
        fits[m] = fit
        out[_PURCHASE_KEYS[m]] = {k: plain(v) for k, v in fit.to_dict().items()}
        if fit.warning:
            warnings.append(fit.warning)
    if not fits:
        raise FitError("no purchase model could be fitted: " + "; ".join(warnings))
    gg, error = _fit_or_warn("Gamma-Gamma", lambda: fit_spend(x, f["monetary_value"].to_numpy()),
                             warnings, data_too=True)
    zero = int(((f["frequency"] > 0) & (f["monetary_value"] == 0)).sum())
    if gg is None:
        out["gamma_gamma"] = {"model": "Gamma-Gamma", "error": error, "n_zero_value": zero}
    else:
        out["gamma_gamma"] = gg.to_dict()
        if gg.warning:
            warnings.append(gg.warning)
    if zero:
        warnings.insert(len(warnings) - (gg is None or gg.limit is not None),
                        f"Gamma-Gamma: {zero:,} repeat customer{'s' if zero != 1 else ''} whose repeat "
                        "purchases have value 0 left out")
    if hold_end is not None:
        length = rfm.holdout_length
        actual = f["holdout_purchases"].to_numpy()
        predicted = {m: fit.fit.conditional_expected_purchases(length, x, tx_, big_t)
                     for m, fit in fits.items()}
        first = next(iter(predicted))
        out["holdout"] = {
            "holdout_end": str(hold_end),
            "length": length,
            "model": fits[first].fitted_model,
            "predicted_repeat_purchases": float(predicted[first].sum()),
            "actual_repeat_purchases": int(actual.sum()),
            "relative_error": float(predicted[first].sum() / actual.sum() - 1) if actual.sum() else None,
            "mean_absolute_error_per_customer": float(abs(predicted[first] - actual).mean()),
            "predicted_by_model": {_PURCHASE_KEYS[m]: float(v.sum()) for m, v in predicted.items()},
        }
        if "paretonbd" in predicted:
            out["holdout"]["pareto_nbd_predicted_repeat_purchases"] = float(predicted["paretonbd"].sum())
    out["warnings"] = warnings
    return out


def run_clv_survival(
    file: str | Path,
    *,
    period: str,
    survivors: str,
    cohort: str | None = None,
    fit_periods: int | None = None,
    horizon: int = 12,
    discount_rate: float = 0.1,
) -> dict[str, Any]:
    """Fit the sBG model to each cohort of a survival table; project retention to ``horizon`` periods."""
    columns = {"--period": period, "--survivors": survivors} | ({"--cohort": cohort} if cohort else {})
    table = load_columns(file, columns)
    if cohort is None:
        table = table.with_columns(cohort=pl.lit("all"))
    warnings: list[str] = []
    results = []
    for label in table["cohort"].unique(maintain_order=True).to_list():
        rows = table.filter(pl.col("cohort") == label).sort("period")
        periods = rows["period"].to_numpy()
        where = f" in cohort {label!r}" if cohort else ""
        if not np.array_equal(periods, np.arange(periods.size)):
            hint = "" if cohort else " (several cohorts? name their column with --cohort)"
            raise DataError(f"--period column {period!r}{where} must hold 0, 1, 2, ... once each; got "
                            f"{', '.join(f'{v:g}' for v in periods[:8])}{' ...' if periods.size > 8 else ''}"
                            + hint)
        counts = rows["survivors"].to_numpy()
        used = counts if fit_periods is None else counts[: fit_periods + 1]
        if fit_periods is not None and used.size < fit_periods + 1:
            raise DataError(
                f"--fit-periods {fit_periods}: cohort {label!r} has only {periods.size - 1} periods"
            )
        fit, error = _fit_or_warn(f"sBG{where}", lambda used=used: fit_sbg(used), warnings)
        entry: dict[str, Any] = {"cohort": str(label), "n_customers": int(counts[0]),
                                 "fit_periods": int(used.size - 1)}
        if fit is None:
            results.append({**entry, "error": error})
            continue
        steps = np.arange(max(horizon, periods.size - 1) + 1)
        projected = fit.survival(steps) * counts[0]
        entry.update({
            "alpha": fit.alpha,
            "beta": fit.beta,
            "log_likelihood": fit.log_likelihood,
            "mean_lifetime": plain(fit.mean_lifetime),
            "expected_lifetime_horizon": fit.expected_lifetime(horizon),
            "discounted_expected_lifetime": fit.discounted_expected_lifetime(discount_rate),
            "discounted_expected_residual_lifetime": fit.discounted_expected_residual_lifetime(
                discount_rate, int(used.size - 1)),
            "projection": [
                {"period": int(t), "survivors_projected": float(projected[t]),
                 "survivors_actual": float(counts[t]) if t < counts.size else None,
                 "retention_rate": float(fit.retention_rate(t)) if t else None}
                for t in steps
            ],
        })
        results.append(entry)
    return {"file": str(file), "kind": "survival", "model": "sBG", "horizon": horizon,
            "discount_rate": discount_rate, "cohorts": results, "warnings": warnings}


def run_clv_opportunities(
    file: str | Path,
    *,
    frequency: str,
    recency: str,
    opportunities: str,
    weight: str | None = None,
    horizon: int = 5,
) -> dict[str, Any]:
    """Fit the BG/BB model to a table of discrete purchase opportunities; predict the next ``horizon``."""
    columns = {"--frequency": frequency, "--recency": recency, "--opportunities": opportunities}
    if weight:
        columns["--weight"] = weight
    table = load_columns(file, columns)
    x, tx, n = (table[c].to_numpy() for c in ("frequency", "recency", "opportunities"))
    w = table["weight"].to_numpy() if weight else np.ones_like(x)
    for option, values in (("--frequency", x), ("--recency", tx), ("--opportunities", n),
                           *((("--weight", w),) if weight else ())):
        bad = (values < 0) | (np.floor(values) != values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"{option} column {columns[option]!r}: {values[row]:g} at row {row + 1} is not a "
                            "whole number >= 0")
    bad = (x > tx) | (tx > n) | ((x == 0) != (tx == 0)) | (n < 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"row {row + 1} has --frequency {frequency!r} {x[row]:g}, --recency {recency!r} {tx[row]:g}, "
            f"--opportunities {opportunities!r} {n[row]:g}; allowed: 1 <= opportunities, "
            "frequency <= recency <= opportunities, and recency 0 exactly when frequency is 0"
        )
    warnings: list[str] = []
    fit, error = _fit_or_warn("BG/BB", lambda: fit_bgbb(x, tx, n, weights=w), warnings)
    out: dict[str, Any] = {"file": str(file), "kind": "opportunities", "model": "BG/BB", "horizon": horizon,
                           "n_customers": int(w.sum()), "n_rows": int(x.size)}
    if fit is None:
        out["bgbb"] = {"error": error}
    else:
        expected = fit.conditional_expected_purchases(horizon, x, tx, n)
        alive = fit.probability_alive(x, tx, n)
        out["bgbb"] = {"alpha": fit.alpha, "beta": fit.beta, "gamma": fit.gamma, "delta": fit.delta,
                       "log_likelihood": fit.log_likelihood, "n_customers": fit.n_customers}
        out["expected_transactions_next"] = float(w @ expected)
        out["mean_probability_alive"] = float(w @ alive / w.sum())
        if np.unique(n).size == 1:
            k = int(n[0])
            counts = np.bincount(x.astype(int), weights=w, minlength=k + 1)
            out["frequency_fit"] = [
                {"transactions": i, "expected_customers": float(e), "actual_customers": float(counts[i])}
                for i, e in enumerate(fit.frequency_distribution(k) * w.sum())
            ]
    out["warnings"] = warnings
    return out


def _summary_text(r: dict[str, Any]) -> str:
    if r.get("kind") == "survival":
        lines = [f"sBG retention model, projection to {r['horizon']} periods, "
                 f"discount rate {r['discount_rate']}"]
        for c in r["cohorts"]:
            if "error" in c:
                lines.append(f"{c['cohort']}: not fitted ({c['error']})")
                continue
            last = c["projection"][r["horizon"]]
            lines.append(
                f"{c['cohort']}: alpha={c['alpha']:.3f} beta={c['beta']:.3f} log-likelihood "
                f"{c['log_likelihood']:.2f} (periods 1-{c['fit_periods']} of {c['n_customers']:,}); "
                f"survivors at period {r['horizon']}: projected {last['survivors_projected']:.1f}"
                + (f", actual {last['survivors_actual']:g}" if last["survivors_actual"] is not None else "")
                + f"; DEL {c['discounted_expected_lifetime']:.3f}, DERL "
                f"{c['discounted_expected_residual_lifetime']:.3f} periods"
            )
        return "\n".join(lines)
    if r.get("kind") == "opportunities":
        b = r["bgbb"]
        if "error" in b:
            return f"BG/BB on {r['n_customers']:,} customers: not fitted ({b['error']})"
        return "\n".join([
            f"BG/BB on {r['n_customers']:,} customers: alpha={b['alpha']:.4f} beta={b['beta']:.4f} "
            f"gamma={b['gamma']:.4f} delta={b['delta']:.4f} log-likelihood {b['log_likelihood']:.2f}",
            f"Next {r['horizon']} opportunities: {r['expected_transactions_next']:,.1f} transactions "
            f"expected; mean P(alive) {r['mean_probability_alive']:.3f}",
        ])
    lines = [] if "database" not in r else [
        "Summarised per customer in the database: "
        + (f"table {r['database']['table']!r}" if r["database"]["table"] is not None else "query")
        + f" in {r['database']['url']}"]
    lines += [
        f"{r['n_transactions']:,} transactions, {r['n_customers']:,} customers "
        f"({r['n_repeat_customers']:,} with a repeat purchase) up to {r['calibration_end']} "
        f"(time unit: {r['time_unit']})",
    ]
    for m in r["models"]:
        e = r[_PURCHASE_KEYS[m]]
        label = f"{_LABELS[m]:<11} "
        if "error" in e:
            lines.append(f"{label}not fitted: {e['error']}")
            continue
        values = " ".join(f"{k}={v:.4f}" for k, v in e.items()
                          if k not in {"model", "limit", "log_likelihood"})
        where = f"boundary optimum ({e['limit']}); fitted its limit {e['model']}: " if e["limit"] else ""
        lines.append(f"{label}{where}{values} log-likelihood {e['log_likelihood']:.2f}")
    gg = r["gamma_gamma"]
    zero = (f"; {gg['n_zero_value']:,} more with value 0 left out" if gg.get("n_zero_value") else "")
    if "error" in gg:
        lines.append(f"Gamma-Gamma not fitted: {gg['error']}")
    else:
        where = f"boundary optimum ({gg['limit']}); fitted its limit {gg['model']}: " if gg["limit"] else ""
        values = " ".join(f"{k}={gg[k]:.4f}" for k in ("p", "q", "v", "nu") if k in gg)
        lines.append(
            f"Gamma-Gamma {where}{values} "
            f"(mean order value {gg['mean_order_value'] or float('inf'):.2f}; {gg['n_customers']:,} repeat "
            f"customers{zero})"
        )
    if "holdout" in r:
        h = r["holdout"]
        lines.append(
            f"Holdout to {h['holdout_end']} ({h['length']:.1f} {r['time_unit']}s): predicted "
            f"{h['predicted_repeat_purchases']:,.1f} repeat purchases ({h['model']}), "
            f"actual {h['actual_repeat_purchases']:,}"
            + "".join(f"; {_LABELS[m]} {h['predicted_by_model'][_PURCHASE_KEYS[m]]:,.1f}"
                      for m in r["models"][1:] if _PURCHASE_KEYS[m] in h["predicted_by_model"])
        )
    return "\n".join(lines)


def _check_kind(args: argparse.Namespace) -> str:
    """The --kind, after refusing options of another kind and missing required ones."""
    kind = as_choice("kind", args.kind, tuple(KINDS))
    for other, names in KINDS.items():
        if other == kind:
            continue
        for name in names:
            if getattr(args, name, None) not in (None, False, []):
                raise ParameterError(name, getattr(args, name), f"only with --kind {other}")
    if kind == "transactions" and args.horizon is not None:
        raise ParameterError("horizon", args.horizon, "only with --kind survival or opportunities")
    required = {"transactions": ("customer", "date", "amount", "calibration_end"),
                "survival": ("period", "survivors"),
                "opportunities": ("frequency", "recency", "opportunities")}[kind]
    for name in required:
        if getattr(args, name) is None:
            raise ParameterError(name, None, f"a column or value; --{name.replace('_', '-')} is required "
                                 f"with --kind {kind}")
    return kind


def handler(args: argparse.Namespace) -> int:
    """Run ``experiments clv``; returns the exit status."""
    kind = _check_kind(args)
    if kind != "transactions" and args.db is not None:
        raise ParameterError("db", redact(args.db), "only with --kind transactions (a FILE otherwise)")
    check_source(args.file, args.db, args.table, args.query)
    json_out = check_output(args.json, option="--json", overwrite=args.overwrite, allow_stdout=True)
    if kind == "transactions":
        result = run_clv(
            args.file,
            customer=args.customer,
            date=args.date,
            amount=args.amount,
            calibration_end=args.calibration_end,
            holdout_end=args.holdout_end,
            time_unit=args.time_unit or "week",
            pareto=bool(args.pareto),
            models=args.model,
            db=args.db,
            table=args.table,
            query=args.query,
        )
    elif kind == "survival":
        result = run_clv_survival(
            args.file,
            period=args.period,
            survivors=args.survivors,
            cohort=args.cohort,
            fit_periods=None if args.fit_periods is None else as_int("fit_periods", args.fit_periods, low=1),
            horizon=12 if args.horizon is None else as_int("horizon", args.horizon, low=1, high=10_000),
            discount_rate=0.1 if args.discount_rate is None else as_float(
                "discount_rate", args.discount_rate, low=0.0, low_open=True),
        )
    else:
        result = run_clv_opportunities(
            args.file,
            frequency=args.frequency,
            recency=args.recency,
            opportunities=args.opportunities,
            weight=args.weight,
            horizon=5 if args.horizon is None else as_int("horizon", args.horizon, low=1, high=10_000),
        )
    for line in result["warnings"]:
        print(f"experiments clv: warning: {line}", file=sys.stderr)
    if args.json == "-":
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(result, indent=2) + "\n")
    print(_summary_text(result))
    return 0
