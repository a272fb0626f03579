"""Each remarketing lever swept: the truth it moves, at each value, printed and drawn (one figure per lever).

Every sweep evaluates the same simulated customers at each value of one lever (common random numbers,
:func:`experiments.simulate.truth.delivery_curve`), every other parameter at its default, and reads the
true quantity the lever's mechanism moves for the main arm (``dynamic``; ``dynamic_incentive`` for the
limited-time offer):

- cross-sell and up-sell (past purchasers): margin of the complement and the upgrade per 1,000 targeted;
- subscriber value, burn pixel, frequency cap, e-mail flow length: profit per 1,000 (expected: from the
  true per-customer effects, unsubscribes and waste counted);
- peak-season response (in peak season): incremental purchases per 1,000;
- pull forward: change in purchases after the window per 1,000.

    python benchmarks/remarketing_levers_sweeps.py [--n 200000] [--out reports/levers]

Figures are written as PNG files (vl-convert) into ``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import altair as alt
import polars as pl

SWEEPS: tuple[tuple[str, dict[str, object], list[object], str, str, str], ...] = (
    ("attach_rate", {"audience": "past_purchasers"}, [0.0, 0.05, 0.1, 0.2, 0.3], "addon_margin_per_1000",
     "dynamic", "cross-sell and upgrade margin per 1,000 past purchasers ($)"),
    ("bundle_discount", {"audience": "past_purchasers"}, [0.0, 0.05, 0.1, 0.15, 0.2, 0.3],
     "addon_margin_per_1000", "dynamic", "cross-sell and upgrade margin per 1,000 past purchasers ($)"),
    ("cannibalisation", {"audience": "past_purchasers"}, [0.0, 0.25, 0.5, 0.75, 1.0],
     "addon_margin_per_1000", "dynamic", "cross-sell and upgrade margin per 1,000 past purchasers ($)"),
    ("upgrade_lift", {"audience": "past_purchasers"}, [0.0, 0.1, 0.25, 0.5, 1.0, 2.0],
     "addon_margin_per_1000", "dynamic", "cross-sell and upgrade margin per 1,000 past purchasers ($)"),
    ("subscriber_value", {}, [0.0, 2.0, 5.0, 10.0, 20.0], "expected_profit_per_1000", "dynamic",
     "true profit per 1,000 ($)"),
    ("burn_pixel", {}, [False, True], "expected_profit_per_1000", "dynamic", "true profit per 1,000 ($)"),
    ("frequency_cap", {}, [1, 2, 3, 4, 6, 8, 10, 12, 15, 20], "expected_profit_per_1000", "dynamic",
     "true profit per 1,000 ($)"),
    ("email_messages", {}, [1, 2, 3, 4, 6, 8, 12], "expected_profit_per_1000", "dynamic",
     "true profit per 1,000 ($)"),
    ("peak_response_multiplier", {"peak_season": True}, [0.5, 0.8, 1.0, 1.25, 1.5],
     "expected_conversions_per_1000", "dynamic", "true incremental purchases per 1,000"),
    ("pull_forward", {}, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], "post_conversions_per_1000", "dynamic_incentive",
     "true change in purchases after the window per 1,000"),
)


def main() -> None:
    from experiments.simulate.truth import delivery_curve
    from experiments.studies.remarketing.scenario import RemarketingScenario

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--out", default="reports/levers")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, world, values, column, arm, label in SWEEPS:
        t0 = time.perf_counter()
        s = RemarketingScenario.from_params({"n_customers": args.n, **world})
        curve = delivery_curve(s, name, values).filter(pl.col("arm") == arm)
        rows = curve.select(pl.col(name).cast(pl.String).alias("value"), pl.col(column).alias("truth"))
        where = ", ".join(f"{k}={v}" for k, v in world.items()) or "defaults"
        print(f"{name} ({where}; {arm}; {column}; {time.perf_counter() - t0:.1f} s):  "
              + "  ".join(f"{v}: {t:,.2f}" for v, t in rows.iter_rows()))
        chart = alt.Chart(rows.with_row_index("order")).mark_line(point=True).encode(
            x=alt.X("value:N", sort=alt.SortField("order"), title=name),
            y=alt.Y("truth:Q", title=label),
        ).properties(title=f"{name}: {label} ({arm}, {where})", width=420, height=240)
        chart.save(str(out / f"{name}.png"))


if __name__ == "__main__":
    main()
