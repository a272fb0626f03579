"""Ratio metrics by the delta method against numpy by hand and a row-level bootstrap."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from experiments.errors import DataError
from experiments.stats.bootstrap import bootstrap
from experiments.stats.ratio import ratio_effect
from experiments.stats.sufficient import gather


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    rng = np.random.default_rng(8)
    n = 40_000
    arm = rng.choice(["c", "t"], n)
    orders = rng.poisson(np.where(arm == "t", 1.3, 1.2))
    revenue = orders * rng.gamma(4, np.where(arm == "t", 13, 12.5), n)
    return pl.DataFrame({"arm": arm, "revenue": revenue.astype(float), "orders": orders.astype(float)})


def _delta_by_hand(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    r = a.sum() / b.sum()
    cov = np.cov(a, b, ddof=1)
    var = (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / (a.size * b.mean() ** 2)
    return r, var


def test_ratio_matches_numpy_and_bootstrap(table: pl.DataFrame) -> None:
    st = gather(table, arm="arm", metrics=["revenue", "orders"], pairs=[("revenue", "orders")])
    e = ratio_effect(st, arm="t", control="c", numerator="revenue", denominator="orders")
    t, c = table.filter(pl.col("arm") == "t"), table.filter(pl.col("arm") == "c")
    rt, vt = _delta_by_hand(t["revenue"].to_numpy(), t["orders"].to_numpy())
    rc, vc = _delta_by_hand(c["revenue"].to_numpy(), c["orders"].to_numpy())
    assert e.estimate == pytest.approx(rt - rc, rel=1e-10)
    assert e.se == pytest.approx(np.sqrt(vt + vc), rel=1e-8)
    assert e.metric == "revenue/orders" and e.method == "ratio (delta method)"
    boot = bootstrap(lambda x, y: x[:, 0].sum() / x[:, 1].sum() - y[:, 0].sum() / y[:, 1].sum(),
                     t.select("revenue", "orders").to_numpy(), c.select("revenue", "orders").to_numpy(),
                     n_resamples=400, seed=1)
    assert e.se == pytest.approx(boot.se, rel=0.12)  # Monte Carlo error of 400 resamples: ~3.5 %


def test_ratio_needs_the_cross_product_and_same_units(table: pl.DataFrame) -> None:
    with pytest.raises(DataError, match="cross-product"):
        ratio_effect(gather(table, arm="arm", metrics=["revenue", "orders"]), arm="t", control="c",
                     numerator="revenue", denominator="orders")
    holes = table.with_columns(pl.when(pl.col("orders") > 3).then(None).otherwise(pl.col("orders"))
                               .alias("orders"))
    st = gather(holes, arm="arm", metrics=["revenue", "orders"], pairs=[("revenue", "orders")])
    with pytest.raises(DataError, match="same units"):
        ratio_effect(st, arm="t", control="c", numerator="revenue", denominator="orders")


def test_ratio_interval_covers_the_truth() -> None:
    """Calibration: with equal true ratios (both arms 12.5 per order), 95% intervals cover 0 about 95%."""
    rng = np.random.default_rng(21)
    reps, n = 400, 1_500
    covered = 0
    for _ in range(reps):
        orders = rng.poisson(1.2, 2 * n).astype(float)
        revenue = orders * 12.5 + rng.normal(0, 6, 2 * n) * np.sqrt(orders)
        frame = pl.DataFrame({"arm": ["c"] * n + ["t"] * n, "revenue": revenue, "orders": orders})
        st = gather(frame, arm="arm", metrics=["revenue", "orders"], pairs=[("revenue", "orders")])
        e = ratio_effect(st, arm="t", control="c", numerator="revenue", denominator="orders")
        covered += e.ci_low <= 0 <= e.ci_high
    assert 0.92 <= covered / reps <= 0.98  # binomial sd of the coverage: 1.1 %
