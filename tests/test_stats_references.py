"""The battery's building blocks give exactly (bit for bit) the numbers of the library calls they stand for.

Each block may be computed by hand from scipy.special rather than through statsmodels or scipy.stats (which
cost most of a command's start-up); these tests hold them to the reference calls, with ``==``, on random
inputs: statsmodels' two-proportion Wald test and interval and log risk-ratio interval, its Holm and
Benjamini-Hochberg corrections, scipy's Welch t test and chi-square goodness of fit.
"""

from __future__ import annotations

import gc

import numpy as np
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.proportion import test_proportions_2indep as proportions_2indep_test

from experiments.stats.effects import mean_effect, proportion_effect
from experiments.stats.multiple import adjust_pvalues
from experiments.stats.srm import srm_test
from experiments.stats.sufficient import SampleStats


def test_proportions_equal_statsmodels() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n1, n0 = (int(v) for v in rng.integers(2, 10**6, 2))
        c1, c0 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n0 + 1))
        alpha = float(rng.choice([0.05, 0.01, 0.1, rng.uniform(0.001, 0.5)]))
        e = proportion_effect(SampleStats(n1, c1, c1), SampleStats(n0, c0, c0), alpha=alpha)
        if e.se > 0:
            # statsmodels test_proportions_2indep / confint_proportions_2indep(method="wald", compare="diff")
            res = proportions_2indep_test(c1, n1, c0, n0, method="wald", compare="diff")
            low, high = confint_proportions_2indep(c1, n1, c0, n0, method="wald", compare="diff", alpha=alpha)
            assert (e.statistic, e.p_value, e.ci_low, e.ci_high) == (
                float(res.statistic), float(res.pvalue), float(low), float(high))
        if c1 > 0 and c0 > 0:
            # confint_proportions_2indep(method="log", compare="ratio"), minus one
            low, high = confint_proportions_2indep(c1, n1, c0, n0, method="log", compare="ratio", alpha=alpha)
            assert (e.rel_ci_low, e.rel_ci_high) == (float(low) - 1, float(high) - 1)


def test_welch_equals_scipy() -> None:
    rng = np.random.default_rng(1)
    for _ in range(100):
        x = rng.lognormal(0, 1, int(rng.integers(3, 400)))
        y = rng.lognormal(0.1, 1.2, int(rng.integers(3, 400)))
        alpha = float(rng.uniform(0.001, 0.3))
        t, c = (SampleStats(a.size, float(a.sum()), float((a * a).sum())) for a in (x, y))
        e = mean_effect(t, c, alpha=alpha)
        v1, v0 = t.variance / t.n, c.variance / c.n
        df = (v1 + v0) ** 2 / (v1**2 / (t.n - 1) + v0**2 / (c.n - 1))
        # scipy.stats.t.sf / t.ppf with Welch-Satterthwaite degrees of freedom
        assert e.p_value == float(2 * sps.t.sf(abs(e.statistic), df))
        assert e.ci_high == e.estimate + float(sps.t.ppf(1 - alpha / 2, df)) * e.se


def test_corrections_equal_statsmodels() -> None:
    rng = np.random.default_rng(2)
    gc.freeze()  # multipletests(method="holm") calls gc.collect(): keep the test session's heap out of it
    try:
        for _ in range(200):
            k = int(rng.integers(1, 40))
            p = rng.uniform(0, 1, k) ** rng.uniform(1, 8)
            if rng.random() < 0.3:
                p[int(rng.integers(0, k))] = p[0]  # ties
            for method, sm in (("holm", "holm"), ("bh", "fdr_bh")):
                assert adjust_pvalues(list(p), method) == [float(v) for v in multipletests(p, method=sm)[1]]
    finally:
        gc.unfreeze()


def test_srm_equals_scipy_chisquare() -> None:
    rng = np.random.default_rng(3)
    for _ in range(100):
        k = int(rng.integers(2, 6))
        counts = {f"a{i}": int(v) for i, v in enumerate(rng.integers(1, 10**6, k))}
        shares = rng.dirichlet(np.ones(k))
        shares[-1] = 1 - shares[:-1].sum()
        res = srm_test(counts, dict(zip(counts, shares.tolist(), strict=True)))
        ref = sps.chisquare(list(counts.values()), list(res.expected.values()))
        assert (res.chi2, res.p_value) == (float(ref.statistic), float(ref.pvalue))


def test_wilson_interval_equals_statsmodels_bit_for_bit() -> None:
    """The Wilson interval written out equals statsmodels' proportion_confint exactly, edges included."""
    from statsmodels.stats.proportion import proportion_confint

    from experiments.stats.rates import wilson_interval

    rng = np.random.default_rng(11)
    cases = [(0, 1), (1, 1), (0, 50), (50, 50), (3, 7), (5_000, 64_000), (10**7, 3 * 10**7)]
    for n in rng.integers(1, 10**8, 300):
        cases.append((int(rng.integers(0, n + 1)), int(n)))
    for count, n in cases:
        for alpha in (0.05, 0.01, 0.1, 0.3173):
            want = proportion_confint(count, n, alpha=alpha, method="wilson")
            assert wilson_interval(count, n, alpha) == (float(want[0]), float(want[1])), (count, n, alpha)


def test_t_quantile_equals_scipy_t_ppf() -> None:
    """The per-arm t interval's quantile (scipy.special.stdtrit) is scipy.stats.t.ppf's."""
    from scipy import stats as sps
    from scipy.special import stdtrit

    for df in (1, 2, 5, 29, 30, 1_000, 10**6):
        for q in (0.95, 0.975, 0.995):
            assert float(stdtrit(df, q)) == float(sps.t.ppf(q, df))
