"""The distribution functions of ``scipy.special`` that the tests use, in one place (the results are
scipy's own, bit for bit)."""

from __future__ import annotations

from scipy.special import chdtrc, ndtr, ndtri, stdtr, stdtrit

__all__ = ["chdtrc", "ndtr", "ndtri", "stdtr", "stdtrit"]
