"""Coverage of Lin-adjusted intervals (3 covariates) and of effect-on-the-exposed intervals, by simulation.

Run: ``.venv/bin/python benchmarks/calibrate_regression_exposed.py [--experiments 2000] [--units 4000]``.

(a) Spend with three pre-period covariates (history, recency, frequency) whose effect differs by customer
    (so the interacted regression has something to gain over CUPED); the truth is each experiment's own
    average effect (of its customers; the simulator knows each one's), and, second, the population's,
    2.0 per customer, which the robust variance understates by the variance of the sample's mean of the
    covariates times the spread of the slopes (it holds the centring point fixed). Prints the coverage of
    the Lin (2013) HC1 interval, of CUPED on history alone and of the unadjusted difference, and their
    mean widths (width ratios: Lin / unadjusted, Lin / CUPED).
(b) Cookie loss: 40 % of the customers are never reachable (more of them among the inactive), the
    campaign works only on those reached and more on active customers; the truth is the effect on the
    exposed (the compliers), 5/3. Prints the coverage of the 2SLS interval and, to show the gap, of the
    intent-to-treat interval against the same truth.

Each experiment goes through the statistics ``experiments analyze`` uses
(:mod:`experiments.stats.regression_coverage`). ``--fixture PATH`` writes instead the small example file
of the README and tests (20,000 customers, seed 7).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from experiments.stats.regression_coverage import exposed_coverage, lin_coverage

#: Population means of the covariates below (lognormal(5, 1): exp(5.5); 1 + Poisson(2): 3; U{1..12}: 6.5).
MEAN_HISTORY, MEAN_FREQUENCY, MEAN_RECENCY = math.exp(5.5), 3.0, 6.5
#: The average effect on spend in (a), and the effect on the exposed in (b):
#: (0.5 * 0.8 * 2 + 0.5 * 0.4 * 1) / 0.6, the compliers' mean effect.
ATE_SPEND, EFFECT_ON_EXPOSED = 2.0, 5.0 / 3.0


def spend_world(rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Customers with three covariates, assignment and spend; the effect varies with the covariates."""
    history = rng.lognormal(5.0, 1.0, shape)
    recency = rng.integers(1, 13, shape).astype(float)
    frequency = 1.0 + rng.poisson(2.0, shape)
    treated = rng.random(shape) < 0.5
    y0 = 0.04 * history + 4.0 * frequency - 0.8 * recency + rng.gamma(2.0, 3.0, shape) * (1 + frequency / 3)
    effect = (ATE_SPEND + 0.004 * (history - MEAN_HISTORY) + 1.5 * (frequency - MEAN_FREQUENCY)
              - 0.2 * (recency - MEAN_RECENCY))
    return {"history": history, "recency": recency, "frequency": frequency, "treated": treated,
            "spend": y0 + treated * effect, "effect": effect}


def exposure_world(rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Assignment, reach (0.8 of active and 0.4 of inactive customers: 60 % overall) and spend."""
    active = rng.random(shape) < 0.5
    reachable = rng.random(shape) < np.where(active, 0.8, 0.4)
    treated = rng.random(shape) < 0.5
    exposed = treated & reachable
    y0 = 5.0 + 3.0 * active + 2.0 * reachable + rng.gamma(2.0, 2.0, shape)
    effect = np.where(active, 2.0, 1.0) + rng.normal(0.0, 1.0, shape)
    return {"treated": treated, "exposed": exposed, "spend": y0 + exposed * effect}


def fixture(path: str) -> None:
    """The README's example file (gzip CSV): 20,000 customers in three equal arms, seed 7; conversion
    and spend follow the three covariates, 62 % of the display arm and 75 % of the e-mail arm reached."""
    import gzip

    import polars as pl

    rng = np.random.default_rng(7)
    n = 20_000
    w = spend_world(rng, (n,))
    arm = rng.choice(np.array(["holdout", "display", "email"]), n)
    reach = rng.random(n) < np.where(arm == "display", 0.62, 0.75)  # cookie loss, missing opt-ins
    exposed = (arm != "holdout") & reach
    logit = -5.0 + 0.45 * np.log(w["history"]) + 0.45 * w["frequency"] - 0.12 * w["recency"]
    p0 = 1 / (1 + np.exp(-logit))
    converted = rng.random(n) < np.clip(p0 + exposed * 0.012, 0, 1)
    amount = 20.0 + 0.1 * w["history"] + rng.gamma(2.0, 10.0, n)
    spend = np.round(np.where(converted, amount + exposed * 2.0, 0.0), 2)
    frame = pl.DataFrame({
        "customer_id": np.arange(n), "arm": arm, "history": np.round(w["history"], 2),
        "recency": w["recency"].astype(int), "frequency": w["frequency"].astype(int),
        "exposed": exposed.astype(int), "converted": converted.astype(int), "spend": spend,
    })
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(frame.write_csv().encode())


def main() -> None:
    """Simulate, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiments", type=int, default=2000)
    ap.add_argument("--units", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--fixture", metavar="PATH", help="write the example file instead")
    args = ap.parse_args()
    if args.fixture:
        fixture(args.fixture)
        return
    r, n = args.experiments, args.units
    rng = np.random.default_rng(args.seed)

    def band(p: float) -> str:
        se = math.sqrt(p * (1 - p) / r)
        return f"{p:.1%} (± {1.96 * se:.1%})"

    t = time.perf_counter()
    w = spend_world(rng, (r, n))
    x = np.stack([w["history"], w["recency"], w["frequency"]], axis=-1)
    a = lin_coverage(w["spend"], w["treated"], x, w["effect"].mean(axis=1), reference=ATE_SPEND)
    print(f"(a) spend, 3 covariates, {r:,} experiments of {n:,} customers, truth: each experiment's average "
          f"effect (mean {a.truth:.4f}), and the population's {ATE_SPEND} [{time.perf_counter() - t:.1f} s]")
    print(f"    mean Lin estimate {a.mean_estimate:.4f}")
    for k in ("lin", "cuped", "unadjusted"):
        print(f"    {k:<11} coverage {band(a.covered[k])} (of the population's "
              f"{band(a.covered_reference[k])}), mean 95% interval width {a.widths[k]:.4f}")
    lin, cuped, plain = a.widths["lin"], a.widths["cuped"], a.widths["unadjusted"]
    print(f"    Lin interval {1 - lin / plain:.1%} narrower than unadjusted (variance "
          f"{1 - (lin / plain)**2:.1%} lower), {1 - lin / cuped:.1%} narrower than CUPED on history "
          f"(variance {1 - (lin / cuped)**2:.1%} lower)")

    t = time.perf_counter()
    w = exposure_world(rng, (r, n))
    b = exposed_coverage(w["spend"], w["treated"], w["exposed"], EFFECT_ON_EXPOSED)
    reach = float(w["exposed"][w["treated"]].mean())
    print(f"\n(b) cookie loss: {reach:.1%} of the treated exposed, {r:,} experiments of {n:,} customers, "
          f"truth on the exposed {EFFECT_ON_EXPOSED:.4f} [{time.perf_counter() - t:.1f} s]")
    print(f"    mean 2SLS estimate {b.mean_estimate:.4f}")
    print(f"    on the exposed coverage {band(b.covered['exposed'])}, mean width {b.widths['exposed']:.4f}")
    print(f"    intent-to-treat interval holds the effect on the exposed in {b.covered['itt']:.1%} "
          f"(it estimates {reach:.2f} x that)")


if __name__ == "__main__":
    main()
