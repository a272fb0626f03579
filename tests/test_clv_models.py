"""MBG/NBD, BG/BB and sBG against lifetimes and published estimates; limiting models at a boundary optimum."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.special import betaln

from experiments.errors import DataError, FitError
from experiments.models.clv import (
    BGNBDFit,
    BoundaryOptimum,
    GeometricDropoutNBDFit,
    MBGNBDFit,
    NBDFit,
    OneOffDropoutNBDFit,
    bgnbd_log_likelihood,
    fit_bgbb,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_mbgnbd,
    fit_purchases,
    fit_sbg,
    fit_spend,
    gamma_gamma_log_likelihood,
    mbgnbd_log_likelihood,
)
from experiments.models.clv.limits import _ll_geometric, _ll_one_off, _log_gamma_poisson
from experiments.transactions import load_transactions, rfm_summary

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def cdnow():
    tx = load_transactions(FIXTURES / "cdnow_sample.csv", customer="customer_id", date="date",
                           amount="amount")
    return tx, rfm_summary(tx, calibration_end=dt.date(1997, 9, 30), time_unit="week").frame


# --------------------------------------------------------------------------------------------- MBG/NBD
def test_mbgnbd_matches_lifetimes_on_cdnow(cdnow):
    # lifetimes 0.11.3 (pandas 2.1.4, numpy 1.26.4, scipy 1.17.1) on the same 2,357-customer summary:
    #   m = ModifiedBetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    #   m.params_; -m._negative_log_likelihood(log(params), f, r, T, ones, 0) * 2357
    #   m.conditional_expected_number_of_purchases_up_to_time(39, f, r, T).sum()
    #   m.expected_number_of_purchases_up_to_time(39)
    # Both optimisers stop at their own tolerance: parameters agree to 1e-4 relative, the
    # log-likelihood to 1e-8 relative.
    _, s = cdnow
    fit = fit_mbgnbd(s["frequency"], s["recency"], s["T"])
    ref = {"r": 0.5248429031495716, "alpha": 6.183081764399113, "a": 0.8913595172712548,
           "b": 1.6140029311984752}
    for name, value in ref.items():
        assert getattr(fit, name) == pytest.approx(value, rel=1e-4), name
    assert fit.log_likelihood == pytest.approx(-9582.135715553766, rel=1e-8)
    assert fit.n_customers == 2357 and fit.n_repeat_customers == 946
    x, tx, t = (s[c].to_numpy() for c in ("frequency", "recency", "T"))
    expected = fit.conditional_expected_purchases(39, x, tx, t).sum()
    assert expected == pytest.approx(1576.7282658885592, rel=1e-4)
    assert fit.expected_purchases(39.0) == pytest.approx(1.1822798470838007, rel=1e-4)
    ix = [0, 1, 2, 10, 100]
    np.testing.assert_allclose(
        fit.probability_alive(x[ix], tx[ix], t[ix]),
        [0.7061384907953514, 0.3909172271800187, 0.17095108033104103, 0.771569375605849, 0.3913181123928405],
        rtol=1e-4,
    )
    # the likelihood at lifetimes' parameters equals lifetimes' own value (same formula, no optimiser)
    assert mbgnbd_log_likelihood(tuple(ref.values()), x, tx, t).sum() == pytest.approx(-9582.135715553766,
                                                                                      rel=1e-12)


# ----------------------------------------------------------------------------------------------- BG/BB
@pytest.fixture(scope="module")
def donations():
    return pl.read_csv(FIXTURES / "donations.csv.gz")


def test_bgbb_matches_lifetimes_and_fader_hardie_shang(donations):
    d = donations
    assert d["weights"].sum() == 11104 and d["periods"].unique().to_list() == [6]
    fit = fit_bgbb(d["frequency"], d["recency"], d["periods"], weights=d["weights"])
    # Fader, Hardie & Shang (2010), Marketing Science 29(6): 1.204, 0.750, 0.657, 2.783, LL -33,225.6
    assert (round(fit.alpha, 3), round(fit.beta, 3), round(fit.gamma, 3), round(fit.delta, 3)) == (
        1.204, 0.750, 0.657, 2.783)
    assert fit.log_likelihood == pytest.approx(-33225.6, abs=0.05)
    # lifetimes 0.11.3: BetaGeoBetaBinomFitter().fit(frequency, recency, periods, weights=weights)
    ref = {"alpha": 1.2035223936080277, "beta": 0.7497163581757602, "gamma": 0.6567181695499577,
           "delta": 2.783441982887655}
    for name, value in ref.items():
        assert getattr(fit, name) == pytest.approx(value, rel=1e-4), name
    # (BetaGeoBetaBinomFitter._loglikelihood(params, f, r, n) * weights).sum()
    assert fit.log_likelihood == pytest.approx(-33225.58127434615, rel=1e-9)
    x, tx, n = d["frequency"], d["recency"], d["periods"]
    # bb.conditional_probability_alive(0, f, r, n)[:6] and
    # bb.conditional_expected_number_of_purchases_up_to_time(5, f, r, n)[:6]
    np.testing.assert_allclose(
        fit.probability_alive(x, tx, n)[:6],
        [0.1162181564847621, 0.07465530769305355, 0.2737540150653362, 0.517345654365235, 0.731254597323404,
         0.8900621725938259], rtol=1e-4)
    np.testing.assert_allclose(
        fit.conditional_expected_purchases(5, x, tx, n)[:6],
        [0.07286333894084959, 0.08569570763928366, 0.31423812673270857, 0.5938533148536237,
         0.8393961811765376, 1.0216890142224044], rtol=1e-4)
    # bb.expected_number_of_transactions_in_first_n_periods(6): customers with 0..6 transactions
    np.testing.assert_allclose(
        fit.frequency_distribution(6) * 11104,
        [3454.881979415432, 1888.6543427566305, 1348.8823303701508, 1113.378533281442, 1017.9224125512291,
         1027.1660490340262, 1253.1143525910836], rtol=1e-4)
    assert fit.frequency_distribution(6).sum() == pytest.approx(1.0, abs=1e-12)


def test_bgbb_rejects_impossible_rows():
    with pytest.raises(DataError, match="recency"):
        fit_bgbb([2], [1], [6])
    with pytest.raises(DataError, match="whole numbers"):
        fit_bgbb([1.5], [2], [6])


# ------------------------------------------------------------------------------------------------- sBG
@pytest.fixture(scope="module")
def retention():
    return pl.read_csv(FIXTURES / "retention_fader_hardie_2007.csv")


@pytest.mark.parametrize(
    ("segment", "alpha", "beta"), [("regular", 0.704, 1.182), ("high_end", 0.668, 3.806)]
)
def test_sbg_reproduces_fader_hardie_2007(retention, segment, alpha, beta):
    # Fader & Hardie (2007), J. Interactive Marketing 21(1): fitted to years 1-7 of each segment
    s = retention.filter(pl.col("segment") == segment).sort("year")["survivors"].to_numpy()
    fit = fit_sbg(s[:8])
    assert (round(fit.alpha, 3), round(fit.beta, 3)) == (alpha, beta)
    assert fit.n_customers == 1000 and fit.n_periods == 7
    # survival is the product of the retention rates; projections stay within 5% of the actual years 8-12
    t = np.arange(1, 13)
    np.testing.assert_allclose(fit.survival(t), np.cumprod(fit.retention_rate(t)), rtol=1e-12)
    np.testing.assert_allclose(fit.survival(t[7:]) * 1000, s[8:], rtol=0.05)
    assert fit.mean_lifetime == float("inf")  # alpha < 1
    assert fit.expected_lifetime(13) == pytest.approx(fit.survival(np.arange(13)).sum())


def test_sbg_discounted_lifetimes_match_direct_sums():
    fit = fit_sbg([1000, 869, 743, 653, 593, 551, 517, 491])
    d = 0.1
    t = np.arange(0, 3000)
    direct = (fit.survival(t) / (1 + d) ** t).sum()
    assert fit.discounted_expected_lifetime(d) == pytest.approx(direct, rel=1e-9)
    n = 8  # survivors of year 7 have renewed 7 times
    tt = np.arange(n, 3000)
    direct = (fit.survival(tt) / fit.survival(n - 1) / (1 + d) ** (tt - n)).sum()
    assert fit.discounted_expected_residual_lifetime(d, renewals=7) == pytest.approx(direct, rel=1e-9)
    # the README of jdmaturen/shifted_beta_geometric_py gives 7.530 for the same cohort, d = 0.10, t = 7
    assert fit.discounted_expected_residual_lifetime(d, renewals=7) == pytest.approx(7.530, abs=5e-4)


def test_sbg_likelihood_is_the_beta_geometric_one():
    fit = fit_sbg([100, 60, 45, 40])
    a, b = fit.alpha, fit.beta
    p = [np.exp(betaln(a + 1, b + t - 1) - betaln(a, b)) for t in (1, 2, 3)]
    ll = 40 * np.log(p[0]) + 15 * np.log(p[1]) + 5 * np.log(p[2]) + 40 * np.log(1 - sum(p))
    assert fit.log_likelihood == pytest.approx(ll, rel=1e-12)


def test_sbg_bad_survivors():
    with pytest.raises(DataError, match="must not increase"):
        fit_sbg([100, 80, 90])
    with pytest.raises(DataError, match="at least one period"):
        fit_sbg([100])
    with pytest.raises(FitError, match="nobody churned"):
        fit_sbg([100, 100, 100])


# ---------------------------------------------------------------------------------- Gamma-Gamma, zeros
def test_gamma_gamma_leaves_out_zero_value_repeat_customers():
    # full CDNOW log (23,570 customers): customer 10244's only repeat purchase is $0. lifetimes 0.11.3
    # refuses it ("non-positive values"); fitted on the 9,450 positive ones:
    #   GammaGammaFitter().fit(rep.frequency, rep.monetary_value), rep = frequency > 0 & monetary_value > 0
    tx = load_transactions(FIXTURES / "cdnow_master.csv.gz", customer="customer_id", date="date",
                           amount="amount")
    f = rfm_summary(tx, calibration_end=dt.date(1997, 9, 30)).frame
    assert f.height == 23570
    fit = fit_gamma_gamma(f["frequency"], f["monetary_value"])
    assert fit.n_customers == 9450 and fit.n_zero_value == 1
    assert fit.p == pytest.approx(6.275358592842282, rel=1e-4)
    assert fit.q == pytest.approx(3.624450210390095, rel=1e-4)
    assert fit.v == pytest.approx(14.98368896193122, rel=1e-4)
    assert "1 with value 0 left out" in fit.summary()
    with pytest.raises(DataError, match="positive monetary value; got 2 \\(1 more with value 0\\)"):
        fit_gamma_gamma([1, 2, 3], [0.0, 5.0, 6.0])
    with pytest.raises(DataError, match=">= 0"):
        fit_gamma_gamma([1, 2, 3], [-1.0, 5.0, 6.0])


# ----------------------------------------------------------------------------------- limiting models
X = np.array([0, 1, 1, 2, 5, 0.0])
TX = np.array([0, 3, 10, 20, 30, 0.0])
TT = np.full(6, 39.0)
COMMON = {"log_likelihood": 0.0, "n_customers": 6, "n_repeat_customers": 4, "iterations": 0,
          "limit_of": "BG/NBD", "limit": "test"}


@pytest.mark.parametrize("shift", [0, 1])
def test_limits_are_the_parent_models_at_the_edge(shift):
    parent_ll = bgnbd_log_likelihood if shift == 0 else mbgnbd_log_likelihood
    parent = BGNBDFit if shift == 0 else MBGNBDFit
    r, alpha, p = 0.3, 5.0, 0.2
    # a, b -> inf with a / (a + b) = p: one dropout probability
    k = 1e6
    big = parent(r, alpha, p * k, (1 - p) * k, 0.0, 6, 4, 0)
    geo = GeometricDropoutNBDFit(r=r, alpha=alpha, p=p, shift=shift, **COMMON)
    np.testing.assert_allclose(parent_ll((r, alpha, p * k, (1 - p) * k), X, TX, TT),
                               _ll_geometric(r, alpha, p, X, TX, TT, shift), atol=1e-5)
    np.testing.assert_allclose(big.probability_alive(X, TX, TT), geo.probability_alive(X, TX, TT), atol=1e-5)
    np.testing.assert_allclose(big.conditional_expected_purchases(20, X, TX, TT),
                               geo.conditional_expected_purchases(20, X, TX, TT), atol=1e-4)
    # a, b -> 0 with a / (a + b) = pi: a share drops out at the first chance
    k = 1e-6
    small = parent(r, alpha, p * k, (1 - p) * k, 0.0, 6, 4, 0)
    one = OneOffDropoutNBDFit(r=r, alpha=alpha, pi=p, shift=shift, **COMMON)
    np.testing.assert_allclose(parent_ll((r, alpha, p * k, (1 - p) * k), X, TX, TT),
                               _ll_one_off(r, alpha, p, X, TX, TT, shift), atol=1e-5)
    np.testing.assert_allclose(small.probability_alive(X, TX, TT), one.probability_alive(X, TX, TT),
                               atol=1e-5)
    np.testing.assert_allclose(small.conditional_expected_purchases(20, X, TX, TT),
                               one.conditional_expected_purchases(20, X, TX, TT), atol=1e-4)
    # a -> 0: nobody drops out
    tiny = parent(r, alpha, 1e-7, 2.0, 0.0, 6, 4, 0)
    nbd = NBDFit(r=r, alpha=alpha, **COMMON)
    np.testing.assert_allclose(parent_ll((r, alpha, 1e-7, 2.0), X, TX, TT),
                               _log_gamma_poisson(r, alpha, X, TT), atol=1e-5)
    np.testing.assert_allclose(tiny.conditional_expected_purchases(20, X, TX, TT),
                               nbd.conditional_expected_purchases(20, X, TX, TT), atol=1e-5)


def _no_dropout(n, r, alpha, T, seed):
    rng = np.random.default_rng(seed)
    k = rng.poisson(rng.gamma(r, 1 / alpha, n) * T)
    tx = np.where(k > 0, T * rng.beta(np.maximum(k, 1), 1), 0.0)  # last of k uniform purchase times
    return k.astype(float), tx, np.full(n, float(T))


def test_no_dropout_gives_the_nbd_limit_equal_to_statsmodels():
    import statsmodels.api as sm

    x, tx, t = _no_dropout(2000, 0.5, 5.0, 52.0, seed=1)
    with pytest.raises(BoundaryOptimum) as info:  # what `experiments clv` used to refuse
        fit_bgnbd(x, tx, t)
    assert info.value.lower == ("a",)
    for model in ("bgnbd", "mbgnbd"):
        got = fit_purchases(model, x, tx, t)
        assert got.fitted_model == "NBD" and got.limit.startswith("a -> 0")
        assert "edge of the parameter space" in got.warning
        # with one T for everyone the counts are negative binomial: statsmodels' NB2 with a constant
        nb = sm.NegativeBinomial(x, np.ones_like(x)).fit(disp=0, method="bfgs", maxiter=500, gtol=1e-10)
        r = 1 / nb.params[1]
        assert got.fit.r == pytest.approx(r, rel=1e-3)
        assert got.fit.alpha == pytest.approx(r * 52.0 / np.exp(nb.params[0]), rel=1e-3)
        # the supremum of the parent's likelihood: BG/NBD at a tiny a is no higher
        near = bgnbd_log_likelihood((got.fit.r, got.fit.alpha, 1e-8, 1.0), x, tx, t).sum()
        assert got.fit.log_likelihood >= near


def test_homogeneous_rates_and_no_repeat_give_poisson():
    rng = np.random.default_rng(1)  # one purchase rate, 0.2 a week, for everyone, and no dropout
    t = np.full(1000, 52.0)
    x = rng.poisson(0.2 * t).astype(float)
    tx = np.where(x > 0, t * rng.beta(np.maximum(x, 1), 1), 0.0)
    with pytest.raises(BoundaryOptimum) as info:
        fit_bgnbd(x, tx, t)
    assert info.value.upper == ("alpha",)
    got = fit_purchases("bgnbd", x, tx, t)
    assert got.fitted_model == "Poisson" and got.fit.lam == pytest.approx(x.sum() / t.sum(), rel=1e-12)
    none = fit_purchases("paretonbd", np.zeros(50), np.zeros(50), np.full(50, 3.0))
    assert none.fitted_model == "Poisson" and none.fit.lam == 0.0 and "no repeat purchase" in none.limit


def test_cdnow_sample_boundaries_are_fitted_as_limits(cdnow):
    tx, _ = cdnow
    # 1997-01-10: 6 of 217 customers bought again; a, b run off together: one dropout probability
    s = rfm_summary(tx, calibration_end=dt.date(1997, 1, 10)).frame
    args = (s["frequency"], s["recency"], s["T"])
    with pytest.raises(BoundaryOptimum):
        fit_bgnbd(*args)
    got = fit_purchases("bgnbd", *args)
    assert got.fitted_model == "NBD with homogeneous dropout" and got.limit.startswith("a, b -> inf")
    assert 0 < got.fit.p < 1
    # 1997-02-15: a, b -> 0 together: a share drops out after the first repeat purchase, the others never
    s = rfm_summary(tx, calibration_end=dt.date(1997, 2, 15)).frame
    args = (s["frequency"], s["recency"], s["T"])
    got = fit_purchases("bgnbd", *args)
    assert got.fitted_model == "NBD with a one-off dropout share" and got.limit.startswith("a, b -> 0")
    # its likelihood is what BG/NBD approaches at small a, b with a / (a + b) = pi
    pi, k = got.fit.pi, 1e-7
    near = bgnbd_log_likelihood((got.fit.r, got.fit.alpha, pi * k, (1 - pi) * k), *args).sum()
    assert got.fit.log_likelihood == pytest.approx(near, abs=1e-3)
    assert got.to_dict()["model"] == "NBD with a one-off dropout share"


def test_gamma_spend_limit_equals_scipy_gamma_fit():
    # one order per repeat customer and one spend scale: Gamma-Gamma's maximum runs to q, v -> inf
    m = np.random.default_rng(5).gamma(3.0, 10.0, 400)
    x = np.ones_like(m)
    got = fit_spend(x, m)
    assert got.fitted_model == "Gamma" and got.limit.startswith("q, v -> inf") and "edge" in got.warning
    from scipy import stats

    shape, _, scale = stats.gamma.fit(m, floc=0)
    assert got.fit.p == pytest.approx(shape, rel=1e-4)
    assert got.fit.nu == pytest.approx(1 / scale, rel=1e-4)
    assert got.fit.log_likelihood == pytest.approx(stats.gamma(shape, scale=scale).logpdf(m).sum(), rel=1e-8)
    # Gamma-Gamma at large q, v with q / v = nu approaches it
    k = 1e7
    near = gamma_gamma_log_likelihood((got.fit.p, k, k / got.fit.nu), x, m).sum()
    assert got.fit.log_likelihood == pytest.approx(near, abs=1e-3)
    assert got.to_dict()["mean_order_value"] == pytest.approx(m.mean(), rel=1e-4)
