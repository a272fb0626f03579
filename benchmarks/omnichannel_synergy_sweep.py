"""The display-synergy lever swept: the true interaction of each channel pair, the plan's total and the
one-channel holdouts summed, in one world per level (the same seed: common customers and touches).

    python benchmarks/omnichannel_synergy_sweep.py [--n 200000] [--levels 1,1.2,1.4,2,3]
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    from experiments.simulate.journeys import draw_world, interaction_truth, subsets_off
    from experiments.studies.omnichannel.scenario import OmnichannelScenario

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--levels", default="1,1.2,1.4,2,3")
    ap.add_argument("--window", type=float, default=7.0)
    args = ap.parse_args()
    start = time.perf_counter()
    rows = []
    for level in (float(x) for x in args.levels.split(",")):
        s = OmnichannelScenario.from_params({"n_customers": args.n, "seed": args.seed,
                                             "display_synergy": level, "synergy_window_days": args.window})
        truth = interaction_truth(subsets_off(draw_world(s), s.factorial_channels), s.factorial_channels)
        rows.append((level, dict(zip(truth["term"], zip(truth["conversions"], truth["profit"], strict=True),
                                     strict=True))))
    terms = list(rows[0][1])
    print(f"{args.n:,} customers, seed {args.seed}, window {args.window:g} days: true extra purchases "
          f"(profit, $) per display_synergy level; {time.perf_counter() - start:.0f} s")
    print(f"{'term':28s}" + "".join(f"{f'x{level:g}':>22s}" for level, _ in rows))
    for term in terms:
        print(f"{term:28s}" + "".join(f"{f'{v[term][0]:,.0f} (${v[term][1]:,.0f})':>22s}" for _, v in rows))


if __name__ == "__main__":
    main()
