"""``experiments analyze FILE``: the full test battery on an experiment file (rows or summary statistics).

Output locations are checked before any work; everything is computed before anything is written;
``--json PATH`` and ``--html PATH`` are written atomically and replace an existing file only with
``--overwrite``. This module imports only the standard library at import time; polars, scipy and the
statistics are imported when the command runs, and the HTML machinery (altair) only with ``--html``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
from pathlib import Path
from typing import Any

import polars as pl

from experiments.commands import COMMANDS
from experiments.datasets import scan_table
from experiments.errors import DataError, ParameterError
from experiments.outputs import check_distinct, check_output, write_results
from experiments.render.page import page_html
from experiments.stats.database import DatabaseTable, check_source, open_table
from experiments.stats.power import MAX_N_PER_ARM
from experiments.stats.row_analysis import MAX_BOOTSTRAP, analyze, check_options
from experiments.stats.summary_input import (
    LOOK_NAMES,
    analyze_summary,
    is_summary_frame,
    row_looks,
    sequential_results,
)
from experiments.studies.analysis import (
    adjustment_lines,
    bayesian_lines,
    bootstrap_table,
    headline,
    tail_lines,
    text_table,
)
from experiments.studies.analysis import page as analysis_page
from experiments.validation import as_int

__all__ = ["analyze_db", "analyze_file", "register", "run"]

_DESCRIPTION = """\
Effects of every treatment arm against the control on every metric, with intervals, multiple-testing
correction, sample-ratio and data-quality checks. FILE is a CSV or parquet file, a folder of parquet
parts or a glob pattern, with one row per unit, or per-arm summary statistics (columns metric, count,
mean, variance, optionally look).

Rows are read in one pass: per-arm sums give every test and every check. A second pass is made only for
--unit (duplicate and cross-arm checks), for --bootstrap (it resamples the values themselves), for
--time (per-arm sums by day or week, made cumulative: the looks of the sequential tests), and for
percentile caps and --quantile (exact order statistics, one pass for all of them, before the sums).

Heavy tails: --cap METRIC=p99 (the 99th percentile of all arms pooled, numpy's default "linear"
definition) or --cap METRIC=500 (an absolute value) sets the metric's values above the cap to the cap
and reports its effects again, capped, beside the uncapped ones; --quantile METRIC=0.9 gives the
difference of the 90th percentiles with an order-statistic interval. Binary metrics cannot be capped or
quantiled, nor can summary-statistics input (no rows).

A table in a database (--db URL with --table NAME or --query SQL, in place of FILE) is analysed where it
lives: the per-arm sums and checks are one SQL aggregation run by the database (through Ibis), and only
one row per arm (and segment) comes back; the numbers equal those of a file of the same rows. DuckDB is
embedded: --db duckdb://relative/file.duckdb or duckdb:///absolute/file.duckdb, or --db duckdb:// with
--query "SELECT * FROM read_parquet('big/*.parquet')" for files larger than memory. Other engines take
their Ibis URL, e.g. postgres://user:password@host:5432/database (bigquery://, snowflake://... with that
Ibis extra installed). --unit runs as a query of its own; --bootstrap, --cap, --quantile and --time are
refused with --db (they read the rows, or per-look sums, from a file).

Refused (one line on stderr, exit 2, nothing written): an unknown column; one column in two roles (the
arm column as a metric, covariate, segment, unit or ratio part; a metric also a covariate); a metric
holding text other than true/false spellings, or three different spellings; NaN or infinity in a
metric, covariate or ratio column (named with counts and arms; --drop-nonfinite drops them instead and
reports it); summary rows with a negative, fractional or below-2 count, a negative variance, or a NaN
or infinite count, mean or variance (the rows are named); an --exposed column that is not 0/1 on every
row, that has another role, or that is 0 on every row of a treatment arm; --exposed with summary input.

Effects on the exposed carry "estimand": "exposed" in the JSON, every other effect "estimand": "itt"
(everyone assigned). Several --covariate give Lin (2013)'s interacted regression; each adjusted entry
has "width_ratio", its interval's width over the unadjusted one's.

Reported in data_quality (JSON, printed, HTML): missing values (left out of that column's statistics),
dropped NaN/infinity, duplicated units and units in several arms, numeric metrics that are 0/1
except for a few other values (a number is binary only when every value is 0 or 1; such a metric is
analysed as continuous), and small counts: a binary metric whose arm (overall or in a segment) has
fewer than 10 successes or 10 failures is tested with Newcombe's hybrid score interval and the score
test instead of Wald's (its method says so; its relative-lift interval is the log-adjusted one, or
empty when the control has no success).

--bayesian adds, to each result, GrowthBook's (gbstats') Bayesian reading of the relative lift:
chance_to_beat_control, expected_loss (of shipping the arm, in the metric's units per unit; in money
with --value METRIC=AMOUNT), credible_low and credible_high (the credible interval of the relative
lift), with gbstats' flat prior or, with --prior-sd, a normal prior centred at 0.

Outputs: every location is checked before any work starts (its folder must exist and be writable);
an existing file is replaced only with --overwrite; - means standard output for --json; --json and
--html must be different files; files appear whole or not at all.
"""


def register(subparsers: Any) -> None:
    """Add the ``analyze`` parser."""
    p = subparsers.add_parser(
        "analyze", help=COMMANDS["analyze"], description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", nargs="?",
                   help="CSV or parquet file, folder of parquet parts, or glob (or --db instead)")
    p.add_argument("--db", metavar="URL",
                   help="analyse a table in a database instead of FILE: an Ibis connection URL, e.g. "
                   "duckdb://file.duckdb (relative), duckdb:///abs/file.duckdb, duckdb:// (in memory) or "
                   "postgres://user:pass@host:5432/db")
    p.add_argument("--table", metavar="NAME", help="with --db: the table to analyse (one in another schema: "
                   "--query 'SELECT * FROM schema.table')")
    p.add_argument("--query", metavar="SQL", help="with --db: a query whose result is the table to analyse")
    p.add_argument("--arm", required=True, metavar="COLUMN", help="column with the arm label")
    p.add_argument("--control", required=True, metavar="LABEL", help="label of the control arm")
    p.add_argument("--metric", action="append", metavar="COLUMN",
                   help="metric column (repeat for several); required for row input")
    p.add_argument("--covariate", action="append", default=[], metavar="COLUMN",
                   help="pre-period covariate (repeatable): one gives CUPED; several, Lin (2013)'s "
                   "regression on the centred covariates and their interactions with the arm, HC1 robust "
                   "errors")
    p.add_argument("--exposed", metavar="COLUMN",
                   help="0/1 column: was the unit reached; adds the exposure rate per arm and the effect on "
                   "the exposed (2SLS, assignment instruments exposure; robust HC0 errors)")
    p.add_argument("--ratio", action="append", default=[], metavar="NUM/DEN",
                   help="ratio metric sum(NUM)/sum(DEN) per arm, e.g. revenue/orders, by the delta method "
                   "on units with both values; corrected with the other effects (repeatable)")
    p.add_argument("--segment", metavar="COLUMN", help="column to split the effects by")
    p.add_argument("--unit", metavar="COLUMN",
                   help="unit id column (duplicate and cross-arm checks; a second pass over the rows)")
    p.add_argument("--shares", metavar="A:0.5,B:0.5", help="intended arm shares for the SRM test")
    p.add_argument("--alpha", default="0.05", help="significance level, in (0, 1) (0.05)")
    p.add_argument("--correction", choices=["holm", "bh", "none"], default="holm",
                   help="multiple-testing correction (holm)")
    p.add_argument("--bootstrap", default="0", metavar="N",
                   help="also give percentile-bootstrap intervals of each metric's difference of means, "
                   "from N resamples (10 to 100000; exact fast resampling; a second pass that reads "
                   "the metric values; for 0/1 and count metrics it is quick, for amounts with many "
                   "distinct values it costs about rows x N random draws) (0: none)")
    p.add_argument("--seed", default="0", metavar="S", help="seed of the bootstrap (0)")
    p.add_argument("--time", metavar="COLUMN",
                   help="sequential monitoring: for rows, a column of dates, datetimes (ISO text with an "
                   "offset is read in UTC) or numbers (days since the start) that is grouped into looks "
                   "(--look-every); for summary input, the look "
                   "column (default: look, time or time_since_start). Each treatment arm x metric gets the "
                   "always-valid mSPRT and the asymptotic confidence sequence (Waudby-Smith et al. 2023) at "
                   "every look, and the decision they allow (inconsistent when the sequence, intersected "
                   "over the looks, is empty: no fixed effect fits every look)")
    p.add_argument("--look-every", choices=["day", "week"],
                   help="with --time on rows: one look at the end of every day or week (day)")
    p.add_argument("--planned-n", metavar="N",
                   help="planned units of a comparison (treatment and control together) the confidence "
                   "sequence is tuned for, e.g. planned_n of 'experiments power --sequential' (default: "
                   "the units at the last look)")
    p.add_argument("--bayesian", action="store_true",
                   help="also give gbstats' Bayesian results: chance to beat control, expected loss if "
                   "shipped, credible interval of the relative lift")
    p.add_argument("--prior-sd", metavar="X",
                   help="with --bayesian: normal prior on the relative lift, mean 0, standard deviation X "
                   "from 1e-6 to 1e6 (e.g. 0.3); default: flat prior")
    p.add_argument("--value", action="append", default=[], metavar="METRIC=AMOUNT",
                   help="with --bayesian: money per unit of METRIC (e.g. converted=12.5 or "
                   "converted=£12.5), for the expected loss in money (repeatable)")
    p.add_argument("--cap", action="append", default=[], metavar="METRIC=pNN|VALUE",
                   help="also report METRIC's effects with values above a cap set to the cap: pNN is the "
                   "NN-th percentile of the pooled arms (e.g. p99, p99.9; exact), VALUE an absolute cap "
                   "(repeatable, one cap per metric)")
    p.add_argument("--quantile", action="append", default=[], metavar="METRIC=Q",
                   help="difference of the Q-quantiles (0 < Q < 1, e.g. 0.5 for the median) of METRIC "
                   "between each treatment arm and the control, with an interval (repeatable)")
    p.add_argument("--drop-nonfinite", action="store_true",
                   help="drop NaN and infinite values like missing ones and report them, instead of "
                   "refusing the file")
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON ('-' = stdout only)")
    p.add_argument("--html", metavar="PATH", help="write a one-page offline HTML report")
    p.add_argument("--overwrite", action="store_true", help="replace existing --json / --html files")
    p.set_defaults(func=run)


def analyze_file(path: str, **options: Any):  # type: ignore[no-untyped-def]
    """Scan ``path`` lazily and run :func:`analyze` (rows) or :func:`analyze_summary` (summary statistics)."""
    lf = scan_table(path)
    columns = list(lf.collect_schema())
    time, every, planned_n = options.pop("time", None), options.pop("look_every", None), \
        options.pop("planned_n", None)
    if is_summary_frame(columns) and options.get("arm") in columns:
        if every is not None:
            raise ParameterError("look-every", every, "nothing: summary-statistics looks are given per row")
        if planned_n is not None and time is None and not any(c in columns for c in LOOK_NAMES):
            raise ParameterError("planned-n", planned_n, "used with looks: a look column (" + ", ".join(
                LOOK_NAMES) + ") or --time COLUMN; this summary has one look")
        options.update(look=time, planned_n=planned_n)
        rows_only = {"covariates": "covariate", "segment": "segment", "unit": "unit", "ratios": "ratio",
                     "bootstrap": "bootstrap", "caps": "cap", "quantiles": "quantile",
                     "exposure": "exposed"}
        for key, name in rows_only.items():
            if options.get(key):
                given = options[key]  # the repeatable options' values as typed, not a Python list
                given = ", ".join(map(str, given)) if isinstance(given, list | tuple) else given
                raise ParameterError(name, given, "nothing: summary-statistics input has no rows")
        if options.get("nonfinite", "refuse") != "refuse":
            raise ParameterError("drop-nonfinite", True, "nothing: summary-statistics input has no rows")
        drop = (*rows_only, "seed", "nonfinite")
        return analyze_summary(lf, **{k: v for k, v in options.items() if k not in drop})
    if not options.get("metrics"):
        raise ParameterError("metric", None, "at least one --metric COLUMN for a table of rows")
    if time is None and (every is not None or planned_n is not None):
        raise ParameterError("look-every" if every is not None else "planned-n",
                             every if every is not None else planned_n, "used with --time COLUMN")
    for attempt in (0, 1):
        try:
            result = analyze(lf, **options)
            if time is not None:
                looks = row_looks(lf, arm=options["arm"], metrics=options["metrics"], time=time,
                                  every=every or "day")
                result = dataclasses.replace(result, sequential=sequential_results(
                    looks, arm=options["arm"], control=options["control"], metrics=options["metrics"],
                    look="look", alpha=options.get("alpha", 0.05), planned_n=planned_n,
                    every=every or "day"))
            return result
        except pl.exceptions.ComputeError as exc:
            if attempt:
                first = str(exc).strip().splitlines()[0]
                raise DataError(f"cannot read {path!r}: {first}") from None
            lf = scan_table(path, infer_schema_length=None)  # a late value did not fit the guessed type
    raise AssertionError("unreachable")


def analyze_db(url: str, *, table: str | None = None, query: str | None = None, **options: Any):  # type: ignore[no-untyped-def]
    """Run :func:`analyze` on a table (or a query's result) in a database: one SQL aggregation there."""
    if not options.get("metrics"):
        raise ParameterError("metric", None, "at least one --metric COLUMN for a table of rows")
    for name in ("time", "look_every", "planned_n"):
        if options.pop(name, None) is not None:
            raise ParameterError(name.replace("_", "-"), True, "nothing with a database table (--db): the "
                                 "looks of sequential monitoring are read from files")
    return analyze(open_table(url, table=table, query=query), **options)


def run(args: argparse.Namespace) -> int:
    """Handler of ``experiments analyze``."""
    # What is imported by now lives as long as the process: keep it out of every later garbage
    # collection (statsmodels' multipletests calls gc.collect(), which otherwise walks all of it).
    gc.freeze()

    check_source(args.file, args.db, args.table, args.query)
    alpha, correction, shares = check_options(args.alpha, args.correction, args.shares)
    n_boot = as_int("bootstrap", args.bootstrap, low=0, high=MAX_BOOTSTRAP)
    seed = as_int("seed", args.seed, low=0)
    json_out = check_output(args.json, option="--json", overwrite=args.overwrite, allow_stdout=True)
    html_out = check_output(args.html, option="--html", overwrite=args.overwrite)
    check_distinct(("--json", json_out), ("--html", html_out))
    options = dict(
        arm=args.arm, control=args.control, metrics=args.metric or None,
        covariates=args.covariate, segment=args.segment, unit=args.unit, shares=shares, alpha=alpha,
        correction=correction, ratios=args.ratio, bootstrap=n_boot, seed=seed,
        nonfinite="drop" if args.drop_nonfinite else "refuse", time=args.time, look_every=args.look_every,
        planned_n=None if args.planned_n is None else as_int("planned-n", args.planned_n, low=2,
                                                             high=2 * MAX_N_PER_ARM),
        bayesian=args.bayesian, prior_sd=args.prior_sd, values=args.value,
        caps=args.cap, quantiles=args.quantile, exposure=args.exposed,
    )
    if args.db is not None:
        source = DatabaseTable(args.db, table=args.table, query=args.query).name
        result = analyze_db(args.db, table=args.table, query=args.query, **options)
    else:
        source = Path(args.file).name
        result = analyze_file(args.file, **options)
    text = json.dumps(result.to_dict(), indent=2, default=str)
    page = None
    if args.html:
        page = page_html(analysis_page(result, source=source))
    if write_results(text, json_out, json_option=args.json, page=page, html_path=html_out):
        return 0
    print(headline(result))
    print()
    if args.db is not None:
        print(f"Aggregated in the database: {source}")
    print(f"{result.n_rows:,} rows; arms: " + ", ".join(f"{a} {n:,}" for a, n in result.arms.items()))
    print(result.srm.summary())
    print(result.data_quality.summary())
    print()
    print(text_table(result))
    lines = adjustment_lines(result)
    if lines:
        print()
        print("\n".join(lines))
    if result.bootstrap:
        print()
        print(f"Bootstrap ({round(100 * (1 - alpha))}% percentile intervals, seed {result.seed}):")
        print(bootstrap_table(result))
    for line in tail_lines(result):
        print(line)
    if result.bayesian:
        print()
        print(*bayesian_lines(result), sep="\n")
    for h in result.heterogeneity:
        print(h.summary())
    for s in result.sequential:
        print(f"{s.metric}: {s.arm} vs {s.control}: {s.summary()}")
        print(f"{s.metric}: {s.arm} vs {s.control}: {s.cs_summary()}")
    return 0
