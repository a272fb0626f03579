"""The lifecycle world: acquisition, retention and win-back levers with each customer's truth.

It answers "where does the next dollar earn most, acquiring, retaining or winning back, and which
campaigns only move purchases in time?". Customers arrive week by week from sources with their own
cost and quality (:mod:`~experiments.simulate.lifecycle_acquire`), buy and silently drop out as BG/NBD
customers, and meet six levers, each on for a randomised arm and off for its holdout, independently
(a factorial design): discount promotions, win-back offers, lifecycle messages, a loyalty programme's
offer, recovery after service failures, and a referral reward (mechanisms in
:mod:`~experiments.simulate.lifecycle_week`, settings and the sources of their defaults in
:mod:`~experiments.simulate.lifecycle_settings`).

The truth: every customer is simulated with each lever on and off, the other levers as assigned, on
the same uniforms (common random numbers), so ``value_short__<lever>_on - value_short__<lever>_off`` is
the lever's true value for that customer over the window, and ``value_long__...`` over the window and
``long_weeks`` after. A value is the margin of the customer's purchases (after discounts), less the
levers' costs (messages, offers, rewards, recovery, referral rewards), plus the margin of the customers
she referred, all from the window's first week. The observed outcome is the potential outcome of the
assigned arms.

Random streams: chunk ``i`` of :data:`CHUNK_SIZE` acquired customers draws from ``chunk_rng(seed, i,
STREAM)`` only (each week from its own child), so the tables are byte-identical whatever the block
size or the number of workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from experiments.errors import ParameterError
from experiments.simulate.blocks import capture_plan, simulate_in_blocks
from experiments.simulate.lifecycle_acquire import OrderValues, draw_cohort, simulate_referred
from experiments.simulate.lifecycle_after import AfterWindow
from experiments.simulate.lifecycle_settings import LEVERS, SIDES, LifecycleSettings, Source
from experiments.simulate.lifecycle_week import WORLDS, WorldState, flip_world
from experiments.simulate.streaming import write_parquet_stream

__all__ = [
    "HORIZONS",
    "LAPSE_REASONS",
    "LEVERS",
    "STREAM",
    "LifecycleSettings",
    "LifecycleSimulation",
    "Source",
    "simulate_lifecycle",
    "truth_column",
    "write_lifecycle",
]

#: Random stream of this simulator (see :mod:`experiments.simulate.blocks`).
STREAM: int = 4
#: The two horizons of every truth column: the window, and the window plus ``long_weeks``.
HORIZONS: tuple[str, ...] = ("short", "long")
#: Why a customer offered a win-back had lapsed (observed world; truth, not observable).
LAPSE_REASONS: tuple[str, ...] = ("not_offered", "dormant", "dropped_out", "left_after_failure")


def truth_column(measure: str, horizon: str, lever: str, side: str) -> str:
    """Name of a truth column: ``truth_column("value", "long", "loyalty", "on")`` is
    ``"value_long__loyalty_on"``; measures are ``value`` and ``purchases`` (and ``purchases_promo``
    for the discount, with ``horizon=""``)."""
    head = f"{measure}_{horizon}" if horizon else measure
    return f"{head}__{lever}_{side}"


@dataclass(frozen=True)
class LifecycleSimulation:
    """The simulated customers and their weekly purchases.

    ``customers``: one row per customer (acquired ones, then the referred ones of each chunk):
    ``customer_id``, ``source``, ``acquisition_week``, ``acquisition_cost``, ``referred``,
    ``referrer_id``; traits ``true_rate`` (weekly purchases while alive), ``true_dropout``,
    ``true_order_value``, ``deal_proneness``, ``birthday_week``, ``would_join``; ``arm_<lever>`` for
    every lever (referred customers are not in the experiment: ``in_experiment`` false, arms and truth
    null); observed ``member``, ``unsubscribed``, ``win_back_offered``, ``lapse_reason`` (truth: why
    the offered customer had lapsed), ``win_back_lapse_weeks`` (weeks since her last purchase at the
    offer), ``failures``, ``referrals``, ``alive_end``, ``purchases``, ``revenue``,
    ``margin_first_52w`` (margin in her first 52 weeks), ``lever_cost`` and ``spend_<lever>`` (what
    the levers cost, and each lever's part, with the discounts and coupons given; whole horizon) and, from
    the window's first week, ``purchases_short``, ``purchases_long``, ``purchases_promo``,
    ``value_short``, ``value_long``; the truth ``value_<h>__<lever>_<side>``,
    ``purchases_<h>__<lever>_<side>`` and ``purchases_promo__discount_<side>``.

    ``purchases``: one row per customer and week with a purchase (observed world): ``customer_id``,
    ``week``, ``purchases``, ``revenue`` (paid, after discounts), ``margin``.
    """

    customers: pl.DataFrame
    purchases: pl.DataFrame
    settings: LifecycleSettings

    def lever_truth(self) -> pl.DataFrame:
        """True mean value and purchases per customer in the experiment, each lever on and off, by
        horizon; ``effect`` is on minus off (dollars, or purchases)."""
        c = self.customers.lazy().filter(pl.col("in_experiment"))
        exprs = []
        for lever in LEVERS:
            for h in HORIZONS:
                for measure in ("value", "purchases"):
                    for side in SIDES:
                        col = truth_column(measure, h, lever, side)
                        exprs.append(pl.col(col).mean().alias(col))
        row = c.select(exprs).collect().row(0, named=True)
        rows = [{"lever": lever, "horizon": h, "measure": measure,
                 "on": row[truth_column(measure, h, lever, "on")],
                 "off": row[truth_column(measure, h, lever, "off")]}
                for lever in LEVERS for h in HORIZONS for measure in ("value", "purchases")]
        return pl.DataFrame(rows).with_columns(effect=pl.col("on") - pl.col("off"))


def _chunk(s: LifecycleSettings, values: OrderValues, rng: np.random.Generator, start: int,
           stop: int) -> dict[str, pl.DataFrame]:
    """The customers and purchases of acquired customers ``start..stop-1`` and of those they referred."""
    c = draw_cohort(s, rng, stop - start)
    m = c.order.size
    state = WorldState(s, c, rng, values)
    weeks: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    after = None
    for t in range(s.horizon_weeks):
        if t == s.campaign_start:
            state.open_window()
        if t == s.campaign_end:
            after = AfterWindow(state)
        wk = state.step(t) if after is None else after.step(t)
        if wk.buyers.size:
            weeks.append((t, wk.buyers, wk.purchases, wk.revenue, wk.margin))
    if after is not None:
        after.finish()
    gid = start + c.order.astype(np.int64)  # global id of each arrival-ordered position

    # referred customers: one lifetime each, in weeks since arrival, valued in every referral world
    K = s.max_referrals
    starts = state.ref_start  # (referral world, slot, position)
    active = (starts >= 0).any(axis=0).T  # (position, slot)
    pos, slot = np.nonzero(active)
    # the earliest a referred customer arrives is week 1
    ref = simulate_referred(s, rng, pos.size, s.horizon_weeks - 1, values)
    R = ref.cum_margin.shape[1] - 1
    ref_value = {}
    for h, end in (("short", s.campaign_end), ("long", s.long_end)):
        out = np.zeros((starts.shape[0], m))
        for w in range(starts.shape[0]):
            sw = starts[w, slot, pos].astype(np.int64)
            ok = sw >= 0
            hi = np.clip(end - sw, 0, R)
            lo = np.clip(s.campaign_start - sw, 0, R)
            gain = ref.cum_margin[np.arange(pos.size), hi] - ref.cum_margin[np.arange(pos.size), lo]
            out[w] = np.bincount(pos[ok], gain[ok], minlength=m)
        ref_value[h] = out

    # per-world outcomes: trajectory worlds for purchases, referral worlds for values
    traj = [*range(WORLDS), 0]
    value = {h: getattr(state, f"v_{h}")[traj] - getattr(state, f"rc_{h}") + ref_value[h] for h in HORIZONS}
    purchases = {"short": state.p_short, "long": state.p_long}
    inv = np.empty(m, np.int64)
    inv[c.order] = np.arange(m)  # arrival position of each chunk-local customer

    def back(a: np.ndarray) -> np.ndarray:
        return a[..., inv]

    cols: dict[str, object] = {
        "customer_id": np.arange(start, stop, dtype=np.int64),
        "source": back(c.source),
        "acquisition_week": back(c.acq_week),
        "acquisition_cost": back(c.acq_cost),
        "referred": np.zeros(m, bool),
        "referrer_id": np.full(m, -1, np.int64),
        "true_rate": back(c.rate),
        "true_dropout": back(c.dropout),
        "true_order_value": back(c.spend) * s.gg_p,
        "deal_proneness": back(c.deal),
        "birthday_week": back(c.birthday),
        "would_join": back(c.would_join),
        "in_experiment": np.ones(m, bool),
    }
    for lever in LEVERS:
        cols[f"arm_{lever}"] = back(c.arms[lever])
    cols.update({
        "member": back(c.arms["loyalty"] & c.would_join),
        "unsubscribed": back(~state.subscribed[0]),
        "win_back_offered": back(state.offer_week[0] >= 0),
        "lapse_reason": back(state.lapse_reason),
        "win_back_lapse_weeks": back(state.offer_lapse),
        "failures": back(state.failures),
        "referrals": back(state.ref_count[0].astype(np.int32)),
        "alive_end": back(state.alive[0]),
        "purchases": back(state.purchases_total),
        "revenue": back(state.revenue_total),
        "margin_first_52w": back(state.margin_52),
        "lever_cost": back(state.cost_total),
        **{f"spend_{lever}": back(state.spend[k]) for k, lever in enumerate(LEVERS)},
        "purchases_short": back(purchases["short"][0]),
        "purchases_long": back(purchases["long"][0]),
        "purchases_promo": back(state.p_promo[0]),
        "value_short": back(value["short"][0]),
        "value_long": back(value["long"][0]),
    })
    for lever in LEVERS:
        arm = c.arms[lever]
        f = flip_world(lever)
        ft = 0 if lever == "referral" else f
        for h in HORIZONS:
            on, off = _sides(arm, value[h][0], value[h][f])
            cols[truth_column("value", h, lever, "on")] = back(on)
            cols[truth_column("value", h, lever, "off")] = back(off)
            on, off = _sides(arm, purchases[h][0], purchases[h][ft])
            cols[truth_column("purchases", h, lever, "on")] = back(on)
            cols[truth_column("purchases", h, lever, "off")] = back(off)
    on, off = _sides(c.arms["discount"], state.p_promo[0], state.p_promo[flip_world("discount")])
    cols[truth_column("purchases_promo", "", "discount", "on")] = back(on)
    cols[truth_column("purchases_promo", "", "discount", "off")] = back(off)
    customers = pl.DataFrame(cols).with_columns(
        pl.col("source").cast(pl.Int64).replace_strict(list(range(len(s.source_names))), list(s.source_names),
                                                       return_dtype=pl.Enum(s.source_names)),
        pl.col("lapse_reason").cast(pl.Int64).replace_strict(list(range(len(LAPSE_REASONS))),
                                                             list(LAPSE_REASONS),
                                                             return_dtype=pl.Enum(LAPSE_REASONS)),
        pl.col("referrer_id").replace(-1, None),
        pl.col("win_back_lapse_weeks").replace(-1, None),
    )

    # referred customers of the observed world, and everyone's weekly purchases
    s0 = starts[0, slot, pos].astype(np.int64)
    mine = np.flatnonzero(s0 >= 0)
    ref_ids = s.n_customers + gid[pos[mine]] * K + slot[mine]
    paid = (c.arms["referral"][pos[mine]] & (s0[mine] - 1 >= s.campaign_start)
            & (s0[mine] - 1 < s.campaign_end))
    r_weeks = np.arange(R)[:, None]
    in_horizon = (s0[mine][None, :] + r_weeks) < s.horizon_weeks
    bought = (ref.purchases[:, mine] > 0) & in_horizon
    rr, jj = np.nonzero(bought)
    ref_rev = ref.revenue[:, mine]
    ref_margin = ref_rev * s.gross_margin
    age = r_weeks < 52
    referred = pl.DataFrame({
        "customer_id": ref_ids,
        "source": np.full(mine.size, len(s.sources), np.int64),
        "acquisition_week": s0[mine].astype(np.int16),
        "acquisition_cost": np.where(paid, s.referral_reward, 0.0),
        "referred": np.ones(mine.size, bool),
        "referrer_id": gid[pos[mine]],
        "true_rate": ref.rate[mine],
        "true_dropout": ref.dropout[mine],
        "true_order_value": ref.spend[mine],
        "in_experiment": np.zeros(mine.size, bool),
        "purchases": (ref.purchases[:, mine] * in_horizon).sum(axis=0).astype(np.int32),
        "revenue": (ref_rev * in_horizon).sum(axis=0),
        "margin_first_52w": (ref_margin * (in_horizon & age)).sum(axis=0),
    }).with_columns(pl.col("source").replace_strict(list(range(len(s.source_names))), list(s.source_names),
                                                    return_dtype=pl.Enum(s.source_names)))
    customers = pl.concat([customers, referred], how="diagonal")

    if weeks:
        w_id = np.concatenate([gid[b] for _, b, _, _, _ in weeks])
        w_week = np.concatenate([np.full(b.size, t, np.int16) for t, b, _, _, _ in weeks])
        w_k = np.concatenate([k for _, _, k, _, _ in weeks])
        w_rev = np.concatenate([r for _, _, _, r, _ in weeks])
        w_mar = np.concatenate([x for _, _, _, _, x in weeks])
    else:
        w_id, w_week = np.zeros(0, np.int64), np.zeros(0, np.int16)
        w_k, w_rev, w_mar = np.zeros(0, np.int16), np.zeros(0), np.zeros(0)
    ids = np.concatenate([w_id, ref_ids[jj]])
    week = np.concatenate([w_week, (s0[mine][jj] + rr).astype(np.int16)])
    order = np.lexsort((week, ids))
    table = pl.DataFrame({
        "customer_id": ids[order],
        "week": week[order],
        "purchases": np.concatenate([w_k, ref.purchases[:, mine][rr, jj]]).astype(np.int16)[order],
        "revenue": np.concatenate([w_rev, ref_rev[rr, jj]])[order],
        "margin": np.concatenate([w_mar, ref_margin[rr, jj]])[order],
    })
    return {"customers": customers, "purchases": table}


def _sides(arm: np.ndarray, observed: np.ndarray, flipped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's outcome with the lever on and off, from the observed and the flipped world."""
    return np.where(arm, observed, flipped), np.where(arm, flipped, observed)


def simulate_lifecycle(
    settings: LifecycleSettings,
    *,
    seed: int,
    block_size: int = 1_048_576,
    workers: int = 1,
    executor: Executor | None = None,
) -> LifecycleSimulation:
    """Simulate the lifecycle world of ``settings``; the same tables for any block size or workers.

    Parameters
    ----------
    settings
        The world (:class:`LifecycleSettings`).
    seed
        Seed of every random draw (a non-negative integer).
    block_size, workers, executor
        How the work is cut and run (:func:`~experiments.simulate.blocks.simulate_in_blocks`); none of
        them changes the result.

    Returns
    -------
    LifecycleSimulation
        The ``customers`` table with the truth, and the weekly ``purchases`` table.
    """
    if not isinstance(settings, LifecycleSettings):
        raise ParameterError("settings", settings, "a LifecycleSettings")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError("seed", seed, "an integer >= 0")
    values = OrderValues(settings.gg_p)
    tables = simulate_in_blocks(
        lambda rng, start, stop: _chunk(settings, values, rng, start, stop),
        n=settings.n_customers,
        seed=int(seed),
        stream=STREAM,
        block_size=block_size,
        workers=workers,
        executor=executor,
    )
    return LifecycleSimulation(customers=tables["customers"], purchases=tables["purchases"],
                               settings=settings)


def write_lifecycle(
    settings: LifecycleSettings,
    targets: Mapping[str, str | Path],
    *,
    seed: int,
    block_size: int = 1_048_576,
    workers: int = 1,
    executor: Executor | None = None,
) -> dict[str, int]:
    """Stream the simulation to parquet, one file per table (``{"customers": path, "purchases":
    path}``), block by block and atomically (:func:`~experiments.simulate.streaming.write_parquet_stream`);
    the files are byte-identical whatever the block size or workers. Returns the rows per table."""
    plan = capture_plan(simulate_lifecycle, settings, seed=seed, block_size=block_size, workers=workers)
    return write_parquet_stream(plan, targets, block_size=block_size, workers=workers, executor=executor)
