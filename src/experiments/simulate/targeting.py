"""A randomised campaign for targeting studies, and the true value of any treat / don't-treat policy.

The simulated table carries every customer's true effect of each treatment arm
(``cate_converted__<arm>``, ``cate_margin__<arm>``), so a policy, a vector saying whom to treat, has
an exact true value: the sum of the treated customers' effects. Models are trained on
:data:`FEATURES`, the treatment indicator and the observed outcomes; their policies are then scored
here against the truth. Nothing here estimates.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.simulate.blocks import simulate_in_blocks
from experiments.simulate.campaign import UPLIFT_GROUPS
from experiments.simulate.remarketing import STREAM, cate_column, potential_column
from experiments.simulate.remarketing import simulate_chunk as _remarketing_chunk
from experiments.worlds import CampaignWorld, targeting_scenario

__all__ = [
    "FEATURES",
    "TruePolicyValue",
    "oracle_policy",
    "picked_by_group",
    "policy_value",
    "profit_by_share",
    "simulate_targeting",
    "top_share",
]

#: Columns known before the campaign, which a targeting model may use (``region`` is inert: a
#: placebo that a good model learns to ignore). Exposure and outcomes are not among them.
FEATURES: tuple[str, ...] = (
    "segment", "audience", "funnel_stage", "age_band", "region", "device", "email_opt_in",
    "sms_opt_in", "social_account", "cookie_matched", "reachable", "recency_days", "pre_orders",
    "pre_revenue", "days_since_visit", "price_sensitivity", "cart_value",
)

Policy = np.ndarray | pl.Series | Sequence[bool]


def simulate_targeting(
    scenario: CampaignWorld,
    *,
    arm: str | None = None,
    treated_share: float = 0.5,
    block_size: int = 1_048_576,
    workers: int = 1,
    executor: Executor | None = None,
) -> pl.DataFrame:
    """Simulate a randomised campaign of one treatment ``arm`` against the holdout.

    Parameters
    ----------
    scenario
        The world (audience, channels, costs, response); its ``arm_shares`` are replaced.
    arm
        The treatment arm (default ``scenario.main_arm``).
    treated_share
        Share randomised to ``arm``; the rest is the holdout.
    block_size, workers, executor
        As in :func:`~experiments.simulate.remarketing.simulate_remarketing`; none changes the result.

    Returns
    -------
    polars.DataFrame
        The remarketing table (:data:`FEATURES`, observed outcomes, potential outcomes, the
        ``uplift_group`` and the true effects ``cate_converted__<arm>`` and ``cate_margin__<arm>``)
        with ``treatment`` (Int8: 1 for ``arm``, 0 for the holdout) after ``arm``.
    """
    s = targeting_scenario(scenario, arm=arm, treated_share=treated_share)
    treated = (pl.col("arm") == s.main_arm).cast(pl.Int8).alias("treatment")

    def chunk(rng: np.random.Generator, start: int, stop: int) -> pl.DataFrame:
        # the column is added chunk by chunk, so a streamed simulation writes it too
        frame = _remarketing_chunk(s, rng, start, stop)
        at = frame.columns.index("arm") + 1
        return frame.select(*frame.columns[:at], treated, *frame.columns[at:])

    return simulate_in_blocks(chunk, n=s.n_customers, seed=s.seed, stream=STREAM, block_size=block_size,
                              workers=workers, executor=executor)


@dataclass(frozen=True)
class TruePolicyValue:
    """True value of treating some customers with ``arm`` and leaving the rest untreated.

    Per 1,000 customers of the table (treated or not): ``profit_per_1000`` is the expected
    incremental profit (margin net of the incentive, minus media cost) from the true effects,
    ``realised_profit_per_1000`` the same from the customers' potential outcomes.
    """

    arm: str
    n: int
    treated: int
    treated_share: float
    profit_per_1000: float
    conversions_per_1000: float
    cost_per_1000: float
    realised_profit_per_1000: float

    def to_dict(self) -> dict[str, float | int | str]:
        """Plain values."""
        return asdict(self)


def _mask(frame: pl.DataFrame, treat: Policy) -> np.ndarray:
    mask = np.asarray(treat.to_numpy() if isinstance(treat, pl.Series) else treat)
    if mask.dtype != np.bool_ or mask.shape != (frame.height,):
        raise DataError(f"a policy is one true/false value per customer ({frame.height:,} rows); "
                        f"got dtype {mask.dtype} and shape {mask.shape}")
    return mask


def _require(frame: pl.DataFrame, arm: str) -> None:
    needed = [cate_column("margin", arm), cate_column("converted", arm)]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"no true effects of arm {arm!r} in the table (missing {', '.join(missing)})")


def policy_value(frame: pl.DataFrame, treat: Policy, *, arm: str) -> TruePolicyValue:
    """True value per 1,000 customers of treating the customers where ``treat`` is true with ``arm``.

    Exact for the simulated customers: the sum of the treated customers' true effects
    (``cate_margin__<arm>``, ``cate_converted__<arm>``), divided by all customers of ``frame``.
    """
    _require(frame, arm)
    mask = _mask(frame, treat)
    n = frame.height
    picked = frame.filter(pl.Series(mask))
    sums = picked.select(
        pl.col(cate_column("margin", arm)).cast(pl.Float64).sum().alias("profit"),
        pl.col(cate_column("converted", arm)).cast(pl.Float64).sum().alias("conversions"),
        pl.col(potential_column("cost", arm)).sum().alias("cost"),
        (pl.col(potential_column("margin", arm)) - pl.col(potential_column("margin", "holdout"))
         - pl.col(potential_column("cost", arm))).sum().alias("realised"),
    ).row(0, named=True)
    per = 1000.0 / n
    return TruePolicyValue(
        arm=arm, n=n, treated=picked.height, treated_share=picked.height / n,
        profit_per_1000=per * sums["profit"], conversions_per_1000=per * sums["conversions"],
        cost_per_1000=per * sums["cost"], realised_profit_per_1000=per * sums["realised"],
    )


def oracle_policy(frame: pl.DataFrame, *, arm: str) -> np.ndarray:
    """Treat exactly the customers whose true effect on profit (``cate_margin__<arm>``) is positive."""
    _require(frame, arm)
    return (frame[cate_column("margin", arm)] > 0).to_numpy()


def top_share(scores: np.ndarray | pl.Series | Sequence[float], share: float) -> np.ndarray:
    """Treat the ``round(share * n)`` customers with the highest ``scores`` (ties: first rows first)."""
    values = np.asarray(scores.to_numpy() if isinstance(scores, pl.Series) else scores, dtype=np.float64)
    if not 0.0 <= float(share) <= 1.0:
        raise ParameterError("share", share, "a number in [0, 1]")
    if np.isnan(values).any():
        raise DataError("scores contain NaN; every customer needs a score to be ranked")
    k = int(np.rint(float(share) * values.shape[0]))
    mask = np.zeros(values.shape[0], dtype=bool)
    mask[np.argsort(-values, kind="stable")[:k]] = True
    return mask


def profit_by_share(
    frame: pl.DataFrame,
    scores: np.ndarray | pl.Series | Sequence[float],
    *,
    arm: str,
    shares: Sequence[float] | None = None,
) -> pl.DataFrame:
    """True profit per 1,000 customers of treating the top share by ``scores``, at each share.

    Returns columns ``share``, ``treated``, ``profit_per_1000`` and ``conversions_per_1000``; the
    default shares are 0, 0.01, ..., 1 (101 points). Ties are broken as in :func:`top_share`.
    """
    _require(frame, arm)
    values = np.asarray(scores.to_numpy() if isinstance(scores, pl.Series) else scores, dtype=np.float64)
    if values.shape != (frame.height,):
        raise DataError(f"one score per customer ({frame.height:,} rows); got shape {values.shape}")
    if np.isnan(values).any():
        raise DataError("scores contain NaN; every customer needs a score to be ranked")
    grid = np.linspace(0.0, 1.0, 101) if shares is None else np.asarray(shares, dtype=np.float64)
    if ((grid < 0) | (grid > 1)).any():
        raise ParameterError("shares", list(grid), "numbers in [0, 1]")
    order = np.argsort(-values, kind="stable")
    n = frame.height
    out = {}
    for name in ("margin", "converted"):
        effect = frame[cate_column(name, arm)].to_numpy().astype(np.float64)[order]
        out[name] = np.concatenate([[0.0], np.cumsum(effect)])
    k = np.rint(grid * n).astype(np.int64)
    return pl.DataFrame({
        "share": grid, "treated": k,
        "profit_per_1000": 1000.0 * out["margin"][k] / n,
        "conversions_per_1000": 1000.0 * out["converted"][k] / n,
    })


def picked_by_group(frame: pl.DataFrame, treat: Policy) -> pl.DataFrame:
    """Customers and treated customers per ``uplift_group`` (for ``scenario.main_arm``).

    Columns ``uplift_group``, ``customers``, ``treated``, ``share_of_group`` (treated / customers)
    and ``share_of_treated``; one row per group, in :data:`UPLIFT_GROUPS` order.
    """
    mask = _mask(frame, treat)
    counts = (
        frame.select("uplift_group").with_columns(_treated=pl.Series(mask))
        .group_by("uplift_group")
        .agg(pl.len().cast(pl.Int64).alias("customers"),
             pl.col("_treated").sum().cast(pl.Int64).alias("treated"))
    )
    groups = pl.DataFrame({"uplift_group": pl.Series(UPLIFT_GROUPS, dtype=pl.Enum(UPLIFT_GROUPS))})
    total = int(mask.sum())
    return (
        groups.join(counts, on="uplift_group", how="left")
        .with_columns(pl.col("customers", "treated").fill_null(0))
        .with_columns(
            (pl.col("treated") / pl.col("customers")).fill_nan(None).alias("share_of_group"),
            (pl.col("treated") / total if total else pl.lit(None, dtype=pl.Float64))
            .alias("share_of_treated"),
        )
    )
