"""Customer lifetime value models: BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma (transaction logs), their
limits at a boundary optimum (NBD, Poisson), BG/BB (discrete opportunities) and sBG (contractual cohorts).

Each model is fitted by maximum likelihood (L-BFGS-B on log-parameters) from the per-customer summary
``frequency`` (repeat purchases in the calibration period), ``recency`` (time of the last repeat
purchase since the first) and ``T`` (time from the first purchase to the calibration end). Customers
with identical ``(frequency, recency, T)`` are collapsed into weighted rows first, so the cost of a fit
grows with the number of distinct summaries, not of customers.

References
----------
Fader, Hardie & Lee (2005), "Counting your customers the easy way", *Marketing Science* 24(2):
the BG/NBD model; on CDNOW (2,357 customers, weeks 1-39) r = 0.243, alpha = 4.414, a = 0.793,
b = 2.426, log-likelihood -9582.4 (reproduced to 1e-3 by ``tests/test_clv.py``).
Fader & Hardie (2013), "The Gamma-Gamma model of monetary value": on the 946 CDNOW repeat buyers
p = 6.25, q = 3.74, gamma = 15.44.
Schmittlein, Morrison & Colombo (1987); Fader, Hardie & Lee (2005b), "A note on implementing the
Pareto/NBD model in MATLAB": the Pareto/NBD likelihood used here.
Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for customer base
analysis", *IJRM* 24(3): MBG/NBD (equal to lifetimes' ``ModifiedBetaGeoFitter`` on CDNOW within 1e-4).
Fader, Hardie & Shang (2010), *Marketing Science* 29(6): BG/BB; on 11,104 donors alpha = 1.204,
beta = 0.750, gamma = 0.657, delta = 2.783.
Fader & Hardie (2007), "How to project customer retention", *J. Interactive Marketing* 21(1): sBG;
regular alpha = 0.704, beta = 1.182, high end alpha = 0.668, beta = 3.806.
When a maximum lies at the edge of the parameter space, :mod:`~experiments.models.clv.limits` fits the
limiting model (NBD, NBD with homogeneous dropout or a one-off dropout share, Poisson; Gamma for
Gamma-Gamma) and names it.
"""

from __future__ import annotations

from experiments.models.clv._common import BoundaryOptimum, collapse_summary
from experiments.models.clv.bg_bb import BGBBFit, bgbb_log_likelihood, fit_bgbb
from experiments.models.clv.bg_nbd import BGNBDFit, bgnbd_log_likelihood, fit_bgnbd
from experiments.models.clv.gamma_gamma import GammaGammaFit, fit_gamma_gamma, gamma_gamma_log_likelihood
from experiments.models.clv.limits import (
    MODELS,
    GammaSpendFit,
    GeometricDropoutNBDFit,
    NBDFit,
    OneOffDropoutNBDFit,
    PoissonFit,
    PurchaseFit,
    SpendFit,
    fit_purchases,
    fit_spend,
)
from experiments.models.clv.mbg_nbd import MBGNBDFit, fit_mbgnbd, mbgnbd_log_likelihood
from experiments.models.clv.pareto_nbd import ParetoNBDFit, fit_pareto_nbd, pareto_nbd_log_likelihood
from experiments.models.clv.sbg import SBGFit, fit_sbg, sbg_log_likelihood
from experiments.models.clv.value import GroupCLV, clv, clv_by_group, clv_histogram, holdout_by_frequency

__all__ = [
    "MODELS",
    "BGBBFit",
    "BGNBDFit",
    "BoundaryOptimum",
    "GammaGammaFit",
    "GammaSpendFit",
    "GeometricDropoutNBDFit",
    "GroupCLV",
    "MBGNBDFit",
    "NBDFit",
    "OneOffDropoutNBDFit",
    "ParetoNBDFit",
    "PoissonFit",
    "PurchaseFit",
    "SBGFit",
    "SpendFit",
    "bgbb_log_likelihood",
    "bgnbd_log_likelihood",
    "clv",
    "clv_by_group",
    "clv_histogram",
    "collapse_summary",
    "fit_bgbb",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_mbgnbd",
    "fit_pareto_nbd",
    "fit_purchases",
    "fit_sbg",
    "fit_spend",
    "gamma_gamma_log_likelihood",
    "holdout_by_frequency",
    "mbgnbd_log_likelihood",
    "pareto_nbd_log_likelihood",
    "sbg_log_likelihood",
]
