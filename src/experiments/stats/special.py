"""The distribution functions of ``scipy.special`` that the tests use, imported on first call.

Importing ``scipy.special`` takes about 0.2 s, which every command that loads a study module (``simulate``
among them) would otherwise pay before its first row. The results are scipy's own, bit for bit.
"""

from __future__ import annotations

from typing import Any

__all__ = ["chdtrc", "ndtr", "ndtri", "stdtr", "stdtrit"]


def ndtr(x: Any) -> Any:
    """Standard normal cdf (``scipy.special.ndtr``)."""
    from scipy.special import ndtr as f

    return f(x)


def ndtri(p: Any) -> Any:
    """Standard normal quantile (``scipy.special.ndtri``)."""
    from scipy.special import ndtri as f

    return f(p)


def stdtr(df: Any, t: Any) -> Any:
    """Student t cdf (``scipy.special.stdtr``)."""
    from scipy.special import stdtr as f

    return f(df, t)


def stdtrit(df: Any, p: Any) -> Any:
    """Student t quantile (``scipy.special.stdtrit``)."""
    from scipy.special import stdtrit as f

    return f(df, p)


def chdtrc(v: Any, x: Any) -> Any:
    """Chi-square survival function (``scipy.special.chdtrc``)."""
    from scipy.special import chdtrc as f

    return f(v, x)
