"""``experiments attribute FILE``: attribution models on a touchpoint log or on aggregated paths.

Examples::

    experiments attribute touches.parquet --journey journey_id --time time --channel channel \\
        --converted converted --value value --json -
    experiments attribute paths.csv --path path --conversions total_conversions --nulls total_null \\
        --model markov --model shapley --order 2 --html report.html

Input is either touchpoint rows (one row per touch; ``--converted`` and ``--value`` constant within a
journey; rows are put in time order within each journey, so the file need not be sorted) or
aggregated paths (channels joined by ``--sep``, default ``>``, spaces around channels ignored, with
conversion and null counts per path, as ChannelAttribution takes them). With no ``--model`` every model
the input allows runs (``time_decay`` needs times, so not on paths). Shapley takes at most 15 channels:
with more, it is skipped with a warning line on stderr and the other models still run (exit 0), unless
it is the only model asked for (exit 2). Outputs are checked before any work, written atomically, and
never replace a file without ``--overwrite``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from experiments.commands import COMMANDS
from experiments.datasets import scan_table
from experiments.errors import ExperimentsError, ParameterError
from experiments.models.attribution import (
    MAX_ORDER,
    MODELS,
    attribute,
    journeys_from_paths,
    journeys_from_touches,
)
from experiments.outputs import OUTPUT_RULE, check_distinct, check_output, write_results
from experiments.render.page import page_html
from experiments.studies.attribution import page as attribution_page
from experiments.studies.attribution import summary_lines, text_table
from experiments.validation import as_float, as_int

__all__ = ["attribute_file", "register", "run"]

_TOUCH = ("journey", "time", "channel", "converted")
_PATH = ("path", "conversions", "nulls")


def register(subparsers: Any) -> None:
    """Add the ``attribute`` parser."""
    p = subparsers.add_parser(
        "attribute", help=COMMANDS["attribute"],
        description="Credit each channel with conversions under rule-based models (first touch, last "
        "touch, last non-direct, linear, time decay, position based), the Markov removal effect and the "
        "Shapley value. FILE holds one row per touch (--journey, --time, --channel, --converted) or one "
        "row per path (--path, --conversions, --nulls). "
        "Refused (one line on stderr, exit 2, nothing written): a missing, empty or unreadable file; no "
        "rows; an unknown column; one column given for two options; a missing journey id, time or "
        "channel; a time that is not a number of days, a date or a date and time; an empty channel "
        "name or path; a conversion flag other than 0/1 or not constant within a journey; counts or "
        "values that are missing, NaN, infinite or negative; an empty --sep. " + OUTPUT_RULE,
    )
    p.add_argument("file", metavar="FILE", help="CSV or parquet file")
    touch = p.add_argument_group("touchpoint rows")
    touch.add_argument("--journey", metavar="COL", help="journey id column (no missing ids)")
    touch.add_argument("--time", metavar="COL", help="touch time column: days (numbers), dates or datetimes")
    touch.add_argument("--channel", metavar="COL", help="channel name column")
    touch.add_argument("--converted", metavar="COL", help="0/1 conversion flag, constant within a journey")
    paths = p.add_argument_group("aggregated paths")
    paths.add_argument("--path", metavar="COL", help="path column: channels joined by --sep")
    paths.add_argument("--conversions", metavar="COL", help="conversions per path (>= 0)")
    paths.add_argument("--nulls", metavar="COL", help="journeys without conversion per path (>= 0)")
    paths.add_argument("--sep", metavar="TEXT", help="separator between channels in --path (default >)")
    p.add_argument("--value", metavar="COL", help="conversion value: per journey (constant within it) or "
                   "total per path")
    p.add_argument("--model", action="append", metavar="NAME",
                   help="first_touch, last_touch, last_non_direct, linear, time_decay, position_based, "
                   "markov or shapley (repeatable; default: all the input allows)")
    p.add_argument("--order", default="1", metavar="K", help="order of the Markov chain, 1 to 6 (1)")
    p.add_argument("--half-life", default="7", metavar="DAYS", help="half-life of time decay, days (7)")
    p.add_argument("--direct", default="direct", metavar="NAME",
                   help="channel that last_non_direct skips (direct; case-insensitive)")
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON ('-' = stdout only)")
    p.add_argument("--html", metavar="PATH", help="write a one-page offline HTML report")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=run)


def _form(args: argparse.Namespace) -> str:
    given_touch = [o for o in _TOUCH if getattr(args, o) is not None]
    given_path = [o for o in _PATH if getattr(args, o) is not None]
    if given_touch and given_path:
        raise ParameterError("--" + given_path[0], getattr(args, given_path[0]),
                             "nothing with touchpoint options (--journey, --time, --channel, --converted); "
                             "give one input form")
    if args.sep is not None and given_touch:
        touch = ", ".join("--" + o for o in given_touch)
        raise ParameterError("--sep", args.sep, "only with path input (--path, --conversions, --nulls): "
                             f"--sep switches to aggregated paths, yet touchpoint options were given "
                             f"({touch}); leave --sep out for touchpoint rows")
    if given_path or args.sep is not None:
        missing = [o for o in _PATH if getattr(args, o) is None]
        if missing:
            given = ", ".join(f"--{o}" for o in given_path) or f"--sep {args.sep!r}"
            raise ExperimentsError(f"{given} asks for path input, which needs --path, --conversions and "
                                   f"--nulls; missing: " + ", ".join("--" + o for o in missing))
        return "paths"
    missing = [o for o in _TOUCH if getattr(args, o) is None]
    if missing:
        raise ExperimentsError("give --journey, --time, --channel and --converted (touchpoint rows) or "
                               "--path, --conversions and --nulls (paths); missing: "
                               + ", ".join("--" + o for o in missing))
    return "touches"


def _options(args: argparse.Namespace) -> dict[str, Any]:
    models = args.model or None
    for m in models or ():
        if m not in MODELS:
            raise ParameterError("--model", m, "one of " + ", ".join(MODELS))
    return {
        "models": models,
        "order": as_int("--order", args.order, low=1, high=MAX_ORDER),
        "half_life": as_float("--half-life", args.half_life, low=0.0, high=1e6, low_open=True),
        "direct": args.direct,
    }


def attribute_file(file: str | Path, *, form: str, columns: dict[str, str | None], **options: Any):  # type: ignore[no-untyped-def]
    """Read ``file`` (CSV or parquet) as touchpoints or paths and run :func:`attribute` on it."""
    lf = scan_table(file)
    col = {k: v or "" for k, v in columns.items()}
    if form == "paths":
        journeys = journeys_from_paths(lf, path=col["path"], conversions=col["conversions"],
                                       nulls=col["nulls"], value=columns.get("value"),
                                       sep=">" if columns.get("sep") is None else str(columns["sep"]))
    else:
        journeys = journeys_from_touches(lf, journey=col["journey"], time=col["time"], channel=col["channel"],
                                         converted=col["converted"], value=columns.get("value"))
    return attribute(journeys, options.get("models"), order=options.get("order", 1),
                     half_life=options.get("half_life", 7.0), direct=options.get("direct", "direct"))


def run(args: argparse.Namespace) -> int:
    """Handler of ``experiments attribute``."""
    form = _form(args)
    options = _options(args)
    json_out = check_output(args.json, option="--json", overwrite=args.overwrite, allow_stdout=True)
    html_out = check_output(args.html, option="--html", overwrite=args.overwrite)
    check_distinct(("--json", json_out), ("--html", html_out))
    columns = {name: getattr(args, name) for name in (*_TOUCH, *_PATH, "sep", "value")}
    result = attribute_file(args.file, form=form, columns=columns, **options)
    for m, why in result.skipped.items():
        print(f"experiments attribute: warning: {m} skipped: {why}", file=sys.stderr)
    text = json.dumps(result.to_dict(), indent=2)
    page = page_html(attribution_page(result, source=Path(args.file).name)) if args.html else None
    if write_results(text, json_out, json_option=args.json, page=page, html_path=html_out):
        return 0
    for line in summary_lines(result):
        print(line)
    print()
    print(text_table(result))
    return 0
