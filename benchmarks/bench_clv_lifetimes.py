"""``experiments clv`` on the CDNOW sample against a lifetimes script doing the same fits (prints figures).

Both sides are whole processes started fresh, run alternately (paired) so that a busy moment of the
machine slows both; the median of the per-pair ratios is printed. The lifetimes side reads the same
CSV with pandas, builds the calibration/holdout summary (days counted in weeks, as ours), fits BG/NBD
and Gamma-Gamma (repeat customers) and predicts the holdout's repeat purchases: what
``experiments clv ... --holdout-end`` does.
Its parameter estimates are printed next to ours.

lifetimes is not a dependency of the project. Install it in a separate environment, e.g.::

    python3 -m venv /tmp/lt && /tmp/lt/bin/pip install lifetimes==0.11.3 "pandas<2.2" "numpy<2"
    .venv/bin/python benchmarks/bench_clv_lifetimes.py --lifetimes-python /tmp/lt/bin/python [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "tests" / "fixtures" / "cdnow_sample.csv"
CAL_END, HOLD_END = "1997-09-30", "1998-06-30"

LIFETIMES_SCRIPT = f"""
import json, sys
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import calibration_and_holdout_data
log = pd.read_csv(sys.argv[1], dtype={{"date": str}})
log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
log = log.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
s = calibration_and_holdout_data(log, "customer_id", "date", calibration_period_end="{CAL_END}",
                                 observation_period_end="{HOLD_END}", freq="D", freq_multiplier=7,
                                 monetary_value_col="amount")
bg = BetaGeoFitter().fit(s["frequency_cal"], s["recency_cal"], s["T_cal"])
rep = s[s["frequency_cal"] > 0]
gg = GammaGammaFitter().fit(rep["frequency_cal"], rep["monetary_value_cal"])
pred = bg.conditional_expected_number_of_purchases_up_to_time(
    s["duration_holdout"].iloc[0], s["frequency_cal"], s["recency_cal"], s["T_cal"]).sum()
print(json.dumps({{**{{k: float(v) for k, v in bg.params_.items()}},
                  **{{k: float(v) for k, v in gg.params_.items()}}, "predicted": float(pred)}}))
"""


def timed(cmd: list[str]) -> tuple[float, str]:
    """Wall seconds of one whole process, and its standard output."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main(argv: list[str] | None = None) -> None:
    """Print both commands' median wall times and the median paired ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lifetimes-python", required=True, help="python of an environment with lifetimes")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    exe = str(Path(sys.executable).with_name("experiments"))
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "lifetimes_clv.py"
        script.write_text(LIFETIMES_SCRIPT)
        ours_cmd = [exe, "clv", str(CDNOW), "--customer", "customer_id", "--date", "date",
                    "--amount", "amount", "--calibration-end", CAL_END, "--holdout-end", HOLD_END,
                    "--json", "-"]
        theirs_cmd = [args.lifetimes_python, str(script), str(CDNOW)]
        timed(ours_cmd), timed(theirs_cmd)  # warm the file cache and byte-code of both
        ours, theirs, ratios = [], [], []
        for i in range(args.repeat):
            pair = [("ours", ours_cmd), ("theirs", theirs_cmd)]
            if i % 2:
                pair.reverse()
            got = {name: timed(cmd) for name, cmd in pair}
            ours.append(got["ours"][0])
            theirs.append(got["theirs"][0])
            ratios.append(got["ours"][0] / got["theirs"][0])
        mine = json.loads(got["ours"][1][got["ours"][1].index("{"):])
        other = json.loads(got["theirs"][1])
    print(f"experiments clv (CDNOW, BG/NBD + Gamma-Gamma + holdout): median {statistics.median(ours):.2f} s")
    print(f"lifetimes script doing the same fits:                   median {statistics.median(theirs):.2f} s")
    print(f"paired ratio ours/lifetimes: median {statistics.median(ratios):.2f} "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f}, {args.repeat} pairs)")
    bg, gg = mine["bgnbd"], mine["gamma_gamma"]
    print("parameters  ours / lifetimes: " + ", ".join(
        f"{k} {src[k]:.4g}/{other[k]:.4g}" for src, k in
        [(bg, "r"), (bg, "alpha"), (bg, "a"), (bg, "b"), (gg, "p"), (gg, "q"), (gg, "v")]))
    print(f"holdout repeat purchases predicted: ours {mine['holdout']['predicted_repeat_purchases']:.1f}, "
          f"lifetimes {other['predicted']:.1f}")


if __name__ == "__main__":
    main()
