"""How the remarketing channels differ, and how display works together with the direct channels.

Each channel has traits relative to display, the reference (:data:`TRAITS`):

- ``strength``: reminder response per exposure (display 1). Feeds are scrolled past (social 0.8);
  native sits in content and is read, not noticed (0.6); an e-mail or SMS is opened on purpose and
  carries the cart (1.5; the Hillstrom e-mail test moved conversion by more than half, far more than
  the 10% of display retargeting in Johnson, Lewis & Nubbemeyer 2017, but to a different audience).
- ``intrusiveness``: multiplies the reactance and the annoyance of each exposure (display 1). Native does
  not interrupt (0.2); SMS does, on the customer's own phone (3); e-mail was asked for (0.8).
- ``unsubscribe``: multiplies ``unsubscribe_rate``, the chance that one message makes a customer
  unsubscribe (e-mail 1, SMS 2.5; paid impressions 0: nothing to unsubscribe from).
- ``half_life``: multiplies the reminder's half-life, ``ln 2 / -ln(reminder_decay)`` days (1.9 days at
  the default 0.69 a day, Sahni, Narayanan & Kalyanam 2019, read from display). An e-mail waits in the
  inbox (2), an SMS is read at once and forgotten (0.5).

No credible published per-channel ranking of remarketing response was found (the README lists the sources),
so every trait is an assumption, and the factorial channel holdout (``channel_holdout``) is there to
measure them.

Channels work together: an e-mail or SMS that arrives within ``synergy_window_days`` after a display
impression works ``1 + display_synergy`` times as strongly (display ads raised searches for the
advertised brand by 30-45%: Lewis & Nguyen 2015; Kireyev, Pauwels & Gupta 2016 find display lifts
search; reading it onto the direct channels of a remarketing flow is an assumption). Display impressions
fall uniformly over their flight, so with ``n`` of them over ``L`` days the chance that one falls in
the ``w`` days before a message is ``1 - (1 - w / L) ** n``.

Settings are read from the world's settings with :func:`getattr` and these defaults, so every campaign
world (remarketing, targeting) works whether or not it declares them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from experiments.worlds import CAMPAIGN_CHANNELS

__all__ = [
    "DIRECT",
    "SYNERGY_SOURCE",
    "TRAITS",
    "ChannelTraits",
    "Drive",
    "channel_drive",
    "draw_holdouts",
    "holdout_share",
    "synergy",
    "traits_of",
]

#: Channels whose messages display lifts (the direct, search-like channels of a remarketing flow).
DIRECT: tuple[str, ...] = ("email", "sms")
#: Where the default of ``display_synergy`` comes from.
SYNERGY_SOURCE = ("Lewis & Nguyen 2015: display raised brand searches by 30-45%; Kireyev, Pauwels & "
                  "Gupta 2016 (applied to e-mail and SMS: assumption)")


@dataclass(frozen=True)
class ChannelTraits:
    """How one channel works on a customer, relative to display (see the module's docstring)."""

    strength: float
    intrusiveness: float
    unsubscribe: float
    half_life: float
    source: str = "assumption"


#: Default traits per channel: all assumptions (no published per-channel figure).
TRAITS: dict[str, ChannelTraits] = {
    "display": ChannelTraits(1.0, 1.0, 0.0, 1.0,
                             "reference channel; half-life from Sahni, Narayanan & Kalyanam 2019"),
    "social": ChannelTraits(0.8, 1.2, 0.0, 1.0),
    "email": ChannelTraits(1.5, 0.8, 1.0, 2.0),
    "sms": ChannelTraits(1.5, 3.0, 2.5, 0.5),
    "native": ChannelTraits(0.6, 0.2, 0.0, 1.0, "assumption (native does not interrupt)"),
}


def traits_of(settings: object) -> Mapping[str, ChannelTraits]:
    """The world's channel traits: its ``channel_traits`` where it has them, else :data:`TRAITS`."""
    return getattr(settings, "channel_traits", None) or TRAITS


def holdout_share(settings: object) -> float:
    """Share of customers held out of each channel (``channel_holdout``; 0 when the world has none)."""
    return float(getattr(settings, "channel_holdout", 0.0))


def synergy(settings: object) -> tuple[float, float]:
    """``(display_synergy, synergy_window_days)`` of the world (0 and 3 days when it has none)."""
    return float(getattr(settings, "display_synergy", 0.0)), float(getattr(settings, "synergy_window_days",
                                                                             3.0))


def draw_holdouts(rng: np.random.Generator, n: int, share: float) -> dict[str, np.ndarray] | None:
    """Who is held out of each channel: independent ``share`` draws per channel (a factorial design).

    One uniform per customer and channel of :data:`~experiments.worlds.CAMPAIGN_CHANNELS`, in that order,
    whatever channels the campaign uses, so campaigns on different channels share the draws. None when
    ``share`` is 0 (no holdouts, no draws).
    """
    if share <= 0.0:
        return None
    return {c: rng.random(n) < share for c in CAMPAIGN_CHANNELS}


@dataclass(frozen=True)
class Drive:
    """What a customer's delivered exposures do, summed over channels."""

    drive: np.ndarray  # float64, exposures weighted by strength (and display's lift) and by their fading
    # reminder, over a reference: the old mean timing weight times the exposures when every strength is 1
    intrusive: np.ndarray  # float64, exposures weighted by intrusiveness
    keep_log: np.ndarray  # float64, log of the chance that no message makes the customer unsubscribe


def _mean_weight(length: np.ndarray, k: float, first: np.ndarray) -> np.ndarray:
    """Mean of ``exp(-k t)`` for ``t`` uniform on ``[start, start + length]`` (closed form), where
    ``first`` is ``exp(-k * start)``."""
    if k == 0.0:
        return first
    safe = np.maximum(length, 1e-9)
    return np.where(length > 1e-9, first * -np.expm1(-k * safe) / (safe * k), first)


def _first(firsts: dict[float, np.ndarray], k: float, days: np.ndarray, visit_days: np.ndarray) -> np.ndarray:
    """``exp(-k * days)`` at each customer's visit day (few distinct days: a lookup, not an exp each),
    kept in ``firsts``."""
    if k not in firsts:
        firsts[k] = np.exp(-k * days)[visit_days]
    return firsts[k]


def channel_drive(counts: Mapping[str, np.ndarray], *, visit_days: np.ndarray, first_touch: float,
                  flight: np.ndarray, paid: frozenset[str] | set[str], settings: object,
                  flight_code: tuple[np.ndarray, np.ndarray] | None = None,
                  unsubscribes: bool = True) -> Drive:
    """Strength-, timing- and intrusiveness-weighted exposures of each customer.

    Familiarity still grows with the number of exposures, whatever their channel; each exposure's punch
    is its channel's strength times its fading reminder weight, so a stronger or longer-lived channel
    always adds more.

    Parameters
    ----------
    counts
        Exposures per channel after the frequency cap.
    visit_days, first_touch
        Whole days from the visit to entering the flow, per customer, and days from there to the first
        touch: the first touch comes ``visit_days + first_touch`` days after the visit.
    flight
        Days over which the paid impressions were spread (from the first touch until the cap stopped
        them), per customer.
    paid
        The impression channels (the others are message flows, sent ``message_spacing_hours`` apart
        from the first touch).
    settings
        The world's settings (``reminder_decay``, ``message_spacing_hours``, ``unsubscribe_rate`` and
        the optional channel settings).
    flight_code
        Optionally ``(flights, index)`` with ``flight == flights[index]`` (few distinct flights): the
        paid channels' fading weights are then computed once per distinct visit day and flight and
        looked up, the same numbers.
    unsubscribes
        False leaves ``keep_log`` at zeros (for deliveries whose unsubscribes are not read).
    """
    traits = traits_of(settings)
    k_ref = -np.log(settings.reminder_decay)  # type: ignore[attr-defined]
    spacing = settings.message_spacing_hours / 24.0  # type: ignore[attr-defined]
    unsub = settings.unsubscribe_rate  # type: ignore[attr-defined]
    lift, window = synergy(settings)
    n = visit_days.shape[0]
    days = np.arange(int(visit_days.max(initial=0)) + 1) + first_touch
    drive, intrusive, keep_log = (np.zeros(n) for _ in range(3))
    firsts: dict[float, np.ndarray] = {}
    means: dict[float, np.ndarray] = {}
    display = counts.get("display")
    for channel, count in counts.items():
        t = traits[channel]
        k = k_ref / t.half_life
        c = count.astype(np.float64)
        intrusive += t.intrusiveness * c
        if channel in paid:
            if k not in means:
                if flight_code is None:
                    means[k] = _mean_weight(flight, k, _first(firsts, k, days, visit_days))
                else:  # one weight per (visit day, flight) pair, looked up
                    grid = _mean_weight(flight_code[0][None, :], k, np.exp(-k * days)[:, None])
                    flights = grid.shape[1]  # flat index: much faster than grid[visit_days, index]
                    means[k] = grid.ravel()[visit_days.astype(np.int32) * np.int32(flights) + flight_code[1]]
            drive += t.strength * c * means[k]
            continue
        if unsubscribes and t.unsubscribe > 0.0:
            keep_log += c * np.log1p(-min(unsub * t.unsubscribe, 1 - 1e-12))
        first = _first(firsts, k, days, visit_days)
        step = -k * spacing
        sent = np.arange(int(count.max(initial=0)) + 1, dtype=np.float64)
        series = sent if step == 0.0 else np.expm1(step * sent) / np.expm1(step)  # by messages sent
        drive += first * (t.strength * series)[count]
        if channel in DIRECT and display is not None and lift > 0.0 and window > 0.0:
            # message j goes out j * spacing days after the first touch (the first with no display
            # before it); it works 1 + lift times as strongly when a display impression fell in the
            # window before it (computed only where message j went out after some display)
            for j in range(1, int(count.max(initial=0))):
                rows = np.flatnonzero((count > j) & (display > 0))
                if not rows.size:
                    continue
                at = j * spacing
                length = np.maximum(flight[rows], 1e-9)
                share = np.minimum((np.minimum(at, length) - max(at - window, 0.0)) / length, 1.0 - 1e-12)
                seen = -np.expm1(display[rows] * np.log1p(-np.maximum(share, 0.0)))
                drive[rows] += (t.strength * lift * np.exp(-k * at)) * seen * first[rows]

    ref = float(_mean_weight(np.array([7.0]), k_ref, np.exp(-k_ref * np.array([1.0])))[0])
    return Drive(drive=drive / ref, intrusive=intrusive, keep_log=keep_log)
