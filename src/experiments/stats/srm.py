"""Sample-ratio mismatch: chi-square goodness of fit of arm counts to the intended shares (scipy)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from experiments.errors import DataError
from experiments.stats.results import SRMResult
from experiments.stats.special import chdtrc
from experiments.validation import as_shares

__all__ = ["srm_test"]


def srm_test(
    counts: Mapping[str, int], shares: Mapping[str, float] | None = None, *, threshold: float = 0.001
) -> SRMResult:
    """Test arm counts against intended shares (equal shares when ``shares`` is None).

    Parameters
    ----------
    counts
        Units per arm.
    shares
        Intended share of each arm; must name exactly the arms in ``counts`` and sum to 1.
    threshold
        p-value below which a mismatch is flagged (0.001 is the usual, conservative choice).
    """
    arms = list(counts)
    if len(arms) < 2:
        raise DataError(f"sample-ratio check needs at least two arms, got {arms}")
    if shares is None:
        shares = {a: 1 / len(arms) for a in arms}
    shares = as_shares("shares", dict(shares))
    if set(shares) != set(arms):
        raise DataError(
            f"shares name arms {sorted(shares)} but the data has arms {sorted(arms)}; give one share per arm"
        )
    total = sum(counts.values())
    observed = [int(counts[a]) for a in arms]
    expected = [total * shares[a] for a in arms]
    if any(e == 0 for e in expected):
        raise DataError("every arm needs a share above 0 for the sample-ratio check")
    obs, exp = np.asarray(observed, dtype=float), np.asarray(expected, dtype=float)
    chi2 = ((obs - exp) ** 2 / exp).sum()  # scipy.stats.chisquare, the same operations
    p = chdtrc(len(arms) - 1, chi2)
    return SRMResult(
        chi2=float(chi2), p_value=float(p), df=len(arms) - 1,
        observed=dict(zip(arms, observed, strict=True)),
        expected=dict(zip(arms, expected, strict=True)), threshold=threshold,
    )
