"""Coverage of the quantile-difference interval, and what capping costs and buys, by simulation.

Revenue per unit is a point mass at 0 (no purchase) and a lognormal amount otherwise, the shape of
Lewis & Rao (2015)'s retail revenue (a coefficient of variation near 10). The truth is known in closed
form: means, means capped at the population's pooled percentile, and quantiles of each arm. Each
setting runs ``--reps`` experiments (default 2,000) through :func:`experiments.stats.tails.tail_replications`
(the statistics ``experiments analyze --cap / --quantile`` reports) and prints
:func:`experiments.stats.tails.tail_calibration`:

(a) the coverage of the 95% interval of the quantile difference (target 94-96%; with 2,000 experiments
    the binomial standard error of a 95% coverage is 0.5 point);
(b) capping's bias against the true *uncapped* difference, the variance and interval-width ratios
    capped / uncapped, and the coverage of the capped interval for the capped estimand (the difference
    of means capped at the population's pooled percentile).

    .venv/bin/python benchmarks/calibrate_tails.py [--reps 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from experiments.stats.tails import tail_calibration, tail_replications


@dataclass(frozen=True)
class Arm:
    """Revenue = Bernoulli(buy) x lognormal(mu, sigma)."""

    buy: float
    mu: float
    sigma: float

    def draw(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        return (rng.random(shape) < self.buy) * rng.lognormal(self.mu, self.sigma, shape)

    def mean(self) -> float:
        return self.buy * math.exp(self.mu + self.sigma**2 / 2)

    def cdf(self, c: float) -> float:
        return 1 - self.buy + self.buy * stats.norm.cdf((math.log(c) - self.mu) / self.sigma)

    def capped_mean(self, c: float) -> float:
        """E[min(Y, c)] = buy (E[X; X < c] + c P(X >= c))."""
        s, z = self.sigma, (math.log(c) - self.mu) / self.sigma
        return self.buy * (math.exp(self.mu + s**2 / 2) * stats.norm.cdf(z - s) + c * stats.norm.sf(z))

    def quantile(self, q: float) -> float:
        if q <= 1 - self.buy:
            return 0.0
        return math.exp(self.mu + self.sigma * stats.norm.ppf((q - (1 - self.buy)) / self.buy))

    def cv(self) -> float:
        return math.sqrt(math.exp(self.sigma**2) / self.buy - 1)


def pooled_percentile(arms: tuple[Arm, Arm], shares: tuple[float, float], percentile: float) -> float:
    """The population's pooled percentile (the arms mixed in the experiment's shares)."""
    target = percentile / 100

    def gap(c: float) -> float:
        return sum(w * a.cdf(c) for w, a in zip(shares, arms, strict=True)) - target

    return float(optimize.brentq(gap, 1e-9, 1e9, xtol=1e-12, rtol=1e-14))


def run(name: str, control: Arm, treatment: Arm, *, n: int, q: float, cap_percentile: float, reps: int,
        batch: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = pooled_percentile((control, treatment), (0.5, 0.5), cap_percentile)
    t0 = time.perf_counter()
    batches = []
    for start in range(0, reps, batch):
        k = min(batch, reps - start)
        batches.append(tail_replications(control.draw(rng, (k, n)), treatment.draw(rng, (k, n)), quantile=q,
                                         cap_percentile=cap_percentile))
    cal = tail_calibration(batches, true_mean_diff=treatment.mean() - control.mean(),
                           true_capped_diff=treatment.capped_mean(c) - control.capped_mean(c),
                           true_quantile_diff=treatment.quantile(q) - control.quantile(q))
    se = math.sqrt(0.95 * 0.05 / cal.n_reps)
    print(f"== {name}: {n:,} units per arm, control CV {control.cv():.1f}, q = {q:g}, "
          f"cap p{cap_percentile:g} (population cap {c:,.1f}); {time.perf_counter() - t0:.1f} s")
    print(cal.summary())
    print(f"(binomial se of a 95% coverage over {cal.n_reps:,} experiments: {se:.2%})")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=2000, help="experiments per setting (2000)")
    parser.add_argument("--batch", type=int, default=100, help="experiments simulated at once (100)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # Lewis & Rao's shape: 5% buy, CV about 10; the treatment lifts buying 10% and amounts 5%
    rare = Arm(0.05, 3.5, 1.27), Arm(0.055, 3.5 + math.log(1.05), 1.27)
    # a frequent purchase: 60% buy (40% zeros), amounts lifted 10%
    common = Arm(0.6, 3.0, 1.0), Arm(0.6, 3.0 + math.log(1.1), 1.0)
    common_null = Arm(0.6, 3.0, 1.0), Arm(0.6, 3.0, 1.0)
    settings = [
        ("rare buyers, q0.975", rare, 20_000, 0.975, 99.0),
        ("rare buyers, q0.99, cap p99.9", rare, 20_000, 0.99, 99.9),
        ("frequent buyers, median", common, 2_000, 0.5, 99.0),
        ("frequent buyers, q0.9", common, 2_000, 0.9, 99.0),
        ("frequent buyers, no effect (A/A), q0.9", common_null, 2_000, 0.9, 99.0),
    ]
    for i, (name, (control, treatment), n, q, pct) in enumerate(settings):
        run(name, control, treatment, n=n, q=q, cap_percentile=pct, reps=args.reps, batch=args.batch,
            seed=args.seed * 1000 + i)


if __name__ == "__main__":
    main()
