"""BTYD fits against published CDNOW estimates and parameter recovery on simulated customers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from experiments.errors import DataError
from experiments.models.clv import (
    bgnbd_log_likelihood,
    clv,
    collapse_summary,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
    gamma_gamma_log_likelihood,
)
from experiments.models.clv.bg_nbd import _bgnbd_objective
from experiments.models.clv.gamma_gamma import _gg_objective
from experiments.transactions import load_transactions, rfm_summary

FIXTURE = Path(__file__).parent / "fixtures" / "cdnow_sample.csv"


@pytest.fixture(scope="module")
def cdnow():
    import datetime as dt

    tx = load_transactions(FIXTURE, customer="customer_id", date="date", amount="amount")
    return rfm_summary(
        tx, calibration_end=dt.date(1997, 9, 30), holdout_end=dt.date(1998, 6, 30), time_unit="week"
    ).frame


def test_bgnbd_matches_fader_hardie_lee_2005(cdnow):
    # Fader, Hardie & Lee (2005), Marketing Science 24(2): r .243, alpha 4.414, a .793, b 2.426, LL -9582.4
    fit = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert fit.n_customers == 2357 and fit.n_repeat_customers == 946
    assert fit.r == pytest.approx(0.243, abs=5e-4)
    assert fit.alpha == pytest.approx(4.414, abs=5e-3)
    assert fit.a == pytest.approx(0.793, abs=5e-4)
    assert fit.b == pytest.approx(2.426, abs=5e-3)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert "BG/NBD" in fit.summary() and fit.to_frame().height == 4 and fit.to_dict()["r"] == fit.r


def test_gamma_gamma_matches_fader_hardie(cdnow):
    # Fader & Hardie (2013) note on the Gamma-Gamma model: p 6.25, q 3.74, gamma 15.44 on 946 repeat buyers
    fit = fit_gamma_gamma(cdnow["frequency"], cdnow["monetary_value"])
    assert fit.n_customers == 946
    assert fit.p == pytest.approx(6.25, abs=0.005)
    assert fit.q == pytest.approx(3.74, abs=0.005)
    assert fit.v == pytest.approx(15.44, abs=0.01)


def test_pareto_nbd_matches_published_cdnow(cdnow):
    # Fader, Hardie & Lee (2005b) Pareto/NBD note: r .5533, alpha 10.5776, s .6061, beta 11.6650, LL -9594.98
    fit = fit_pareto_nbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert fit.r == pytest.approx(0.5533, rel=2e-3)
    assert fit.alpha == pytest.approx(10.5776, rel=2e-3)
    assert fit.s == pytest.approx(0.6061, rel=3e-3)
    assert fit.beta == pytest.approx(11.6650, rel=5e-3)
    assert fit.log_likelihood == pytest.approx(-9594.98, abs=0.05)
    p_alive = fit.probability_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert ((p_alive > 0) & (p_alive <= 1)).all()


def test_bgnbd_holdout_prediction_is_close(cdnow):
    fit = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    pred = fit.conditional_expected_purchases(39.0, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    actual = cdnow["holdout_purchases"].sum()
    assert abs(pred.sum() / actual - 1) < 0.15
    # the unconditional expectation is the population mean of the conditional one at t=0 growth
    assert fit.expected_purchases(39.0) == pytest.approx(1.195, abs=0.01)


def test_gradients_match_finite_differences(cdnow):
    xs, txs, ts, w = collapse_summary(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    theta = np.log([0.3, 5.0, 0.9, 2.1])
    grad = _bgnbd_objective(theta, xs, txs, ts, w, w.sum())[1]
    num = approx_fprime(theta, lambda t: _bgnbd_objective(t, xs, txs, ts, w, w.sum())[0], 1e-7)
    np.testing.assert_allclose(grad, num, rtol=1e-4, atol=1e-7)
    rep = cdnow.filter(cdnow["frequency"] > 0)
    x, m = rep["frequency"].to_numpy().astype(float), rep["monetary_value"].to_numpy()
    theta = np.log([5.0, 3.0, 12.0])
    grad = _gg_objective(theta, x, m, len(x))[1]
    num = approx_fprime(theta, lambda t: _gg_objective(t, x, m, len(x))[0], 1e-7)
    np.testing.assert_allclose(grad, num, rtol=1e-4, atol=1e-7)


def test_likelihood_sums_to_one_over_counts():
    # for T fixed and recency integrated out, the BG/NBD probabilities of x=0 must match (alpha/(alpha+T))^r
    ll0 = bgnbd_log_likelihood((0.5, 3.0, 1.2, 2.0), [0], [0.0], [10.0])
    assert np.exp(ll0[0]) == pytest.approx((3 / 13) ** 0.5)
    gg = gamma_gamma_log_likelihood((2.0, 3.0, 4.0), [1], [5.0])
    # x=1: the mean is one order ~ Gamma(p, nu) with nu ~ Gamma(q, v): a compound (beta-prime) density
    from scipy.stats import betaprime

    assert gg[0] == pytest.approx(betaprime(2.0, 3.0, scale=4.0).logpdf(5.0), rel=1e-10)


def _simulate_btyd(n, r, alpha, a, b, p, q, v, T, seed):
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    # purchases until death: geometric; arrivals in (0, T] Poisson(lam T) with uniform times
    k = rng.poisson(lam * T)
    death = rng.geometric(drop)  # the repeat purchase after which the customer dies
    x = np.minimum(k, death)
    # recency: x-th order statistic of k uniforms on (0, T)
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(k - x + 1, 1)), 0.0)
    nu = rng.gamma(q, 1 / v, n)
    mean_value = np.where(x > 0, rng.gamma(p * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0)
    return x, tx, np.full(n, float(T)), mean_value


def test_parameter_recovery_100k_within_5_percent():
    truth = dict(r=0.243, alpha=4.414, a=0.793, b=2.426, p=6.25, q=3.74, v=15.44)
    x, tx, t, m = _simulate_btyd(100_000, **truth, T=52.0, seed=11)
    bg = fit_bgnbd(x, tx, t)
    gg = fit_gamma_gamma(x, m)
    fitted = dict(r=bg.r, alpha=bg.alpha, a=bg.a, b=bg.b, p=gg.p, q=gg.q, v=gg.v)
    for name, value in fitted.items():
        assert value == pytest.approx(truth[name], rel=0.05), name


def test_clv_is_positive_and_grows_with_horizon(cdnow):
    bg = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    gg = fit_gamma_gamma(cdnow["frequency"], cdnow["monetary_value"])
    args = (cdnow["frequency"], cdnow["recency"], cdnow["T"], cdnow["monetary_value"])
    short = clv(bg, gg, *args, horizon=13, margin=0.3)
    long = clv(bg, gg, *args, horizon=52, margin=0.3)
    assert (short >= 0).all() and (long >= short - 1e-12).all()
    disc = clv(bg, gg, *args, horizon=52, margin=0.3, discount_rate=0.01)
    assert (disc <= long + 1e-12).all() and disc.sum() < long.sum()


def test_bad_inputs_raise():
    with pytest.raises(DataError, match="recency"):
        fit_bgnbd([1, 2], [5.0, 1.0], [4.0, 4.0])
    with pytest.raises(DataError, match="whole numbers"):
        fit_bgnbd([1.5], [1.0], [4.0])
    with pytest.raises(DataError, match="at least 3"):
        fit_gamma_gamma([1, 0], [3.0, 0.0])
