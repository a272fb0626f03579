"""Attribution models against independent computations: plain Python, fractions, pandas, brute force."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from fractions import Fraction

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.errors import DataError, ParameterError
from experiments.models.attribution import (
    HEURISTICS,
    MODELS,
    TooManyChannelsError,
    attribute,
    heuristic_credit,
    journeys_from_lists,
    journeys_from_paths,
    journeys_from_touches,
    markov_attribution,
    shapley_attribution,
)
from experiments.models.attribution.shapley import coalition_values, shapley_from_coalitions

# --------------------------------------------------------------------------- independent references


def ref_heuristic(paths, conv, model, *, times=None, half_life=7.0, direct="direct"):
    """Plain Python, exact fractions where the weights are rational."""
    credit: dict[str, Fraction | float] = defaultdict(Fraction)
    for i, (path, c) in enumerate(zip(paths, conv, strict=True)):
        n = len(path)
        if model == "first_touch":
            w = [Fraction(1)] + [Fraction(0)] * (n - 1)
        elif model == "last_touch":
            w = [Fraction(0)] * (n - 1) + [Fraction(1)]
        elif model == "last_non_direct":
            w = [Fraction(0)] * n
            keep = [j for j, ch in enumerate(path) if ch.lower() != direct]
            w[keep[-1] if keep else n - 1] = Fraction(1)
        elif model == "linear":
            w = [Fraction(1, n)] * n
        elif model == "position_based":
            if n == 1:
                w = [Fraction(1)]
            elif n == 2:
                w = [Fraction(1, 2)] * 2
            else:
                w = [Fraction(2, 5)] + [Fraction(1, 5) / (n - 2)] * (n - 2) + [Fraction(2, 5)]
        elif model == "time_decay":
            ts = times[i]
            raw = [2.0 ** (-(ts[-1] - t) / half_life) for t in ts]
            w = [r / sum(raw) for r in raw]
        for ch, wj in zip(path, w, strict=True):
            credit[ch] += wj * (Fraction(c) if not isinstance(wj, float) else c)
    return credit


def ref_markov(paths, conv, nulls, order=1):
    """Plain dict-based absorbing chain, exact fractions, Gauss-Jordan elimination."""
    counts: dict[tuple, dict[tuple, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for path, c, n in zip(paths, conv, nulls, strict=True):
        w = Fraction(c) + Fraction(n)
        prev: tuple = ("<start>",)
        for j in range(len(path)):
            state = tuple(path[max(0, j - order + 1): j + 1])
            counts[prev][state] += w
            prev = state
        counts[prev][("<conv>",)] += Fraction(c)
        counts[prev][("<null>",)] += Fraction(n)

    def p_conv(removed: str | None) -> Fraction:
        states = [s for s in counts if removed is None or removed not in s]
        index = {s: i for i, s in enumerate(states)}
        m = len(states)
        a = [[Fraction(0)] * (m + 1) for _ in range(m)]
        for s in states:
            i = index[s]
            total = sum(counts[s].values())
            a[i][i] += 1
            if total == 0:  # a state only paths of weight 0 reach: absorbs nothing
                continue
            for t, cnt in counts[s].items():
                if t == ("<conv>",):
                    a[i][m] += cnt / total
                elif t in index:
                    a[i][index[t]] -= cnt / total
        for col in range(m):  # Gauss-Jordan
            piv = next(r for r in range(col, m) if a[r][col] != 0)
            a[col], a[piv] = a[piv], a[col]
            pv = a[col][col]
            a[col] = [x / pv for x in a[col]]
            for r in range(m):
                if r != col and a[r][col] != 0:
                    f = a[r][col]
                    a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
        return a[index[("<start>",)]][m]

    full = p_conv(None)
    channels = sorted({ch for p in paths for ch in p})
    return full, {ch: 1 - p_conv(ch) / full for ch in channels}


def ref_markov_dense(paths, conv, nulls):
    """Order-1 chain from string transitions, dense numpy solve of the absorbing system."""
    channels = sorted({ch for p in paths for ch in p})
    names = ["start", *channels]
    pos = {s: i for i, s in enumerate(names)}
    m = len(names)
    counts = np.zeros((m, m + 2))  # last two columns: conversion, null
    for path, c, n in zip(paths, conv, nulls, strict=True):
        seq = ["start", *path]
        for a, b in itertools.pairwise(seq):
            counts[pos[a], pos[b]] += c + n
        counts[pos[seq[-1]], m] += c
        counts[pos[seq[-1]], m + 1] += n
    probs = counts / counts.sum(axis=1, keepdims=True)

    def p(removed):
        keep = [i for i, s in enumerate(names) if s != removed]
        q = probs[np.ix_(keep, keep)]
        x = np.linalg.solve(np.eye(len(keep)) - q, probs[keep, m])
        return x[0]

    full = p(None)
    return full, {ch: 1 - p(ch) / full for ch in channels}


def ref_shapley_permutations(paths, conv):
    """Average marginal contribution over every ordering of the channels (brute force)."""
    channels = sorted({ch for p in paths for ch in p})
    sets = [frozenset(p) for p in paths]

    def v(coalition):
        return sum(c for s, c in zip(sets, conv, strict=True) if s <= coalition)

    phi = dict.fromkeys(channels, 0.0)
    perms = list(itertools.permutations(channels))
    for perm in perms:
        seen: set[str] = set()
        for ch in perm:
            phi[ch] += v(frozenset(seen | {ch})) - v(frozenset(seen))
            seen.add(ch)
    return {ch: x / len(perms) for ch, x in phi.items()}


def random_paths(seed: int, n: int = 400, channels: str = "abcdefg", max_len: int = 6):
    rng = np.random.default_rng(seed)
    paths = [[channels[i] for i in rng.integers(0, len(channels), rng.integers(1, max_len + 1))]
             for _ in range(n)]
    conv = rng.integers(0, 4, n).astype(float)
    nulls = rng.integers(0, 6, n).astype(float)
    return paths, conv, nulls


def as_dict(journeys, credit):
    return dict(zip(journeys.channels, credit, strict=True))


# --------------------------------------------------------------------------- heuristics


PATHS = [["search", "display", "email"], ["display", "display", "direct"], ["direct"], ["email", "search"],
         ["social", "display", "search", "direct", "email"], ["direct", "direct"], ["social"]]
CONV = [1, 2, 1, 0, 3, 1, 0]


@pytest.mark.parametrize("model", [m for m in HEURISTICS if m != "time_decay"])
def test_heuristics_equal_exact_fractions(model):
    j = journeys_from_lists(PATHS, CONV)
    ours = as_dict(j, heuristic_credit(j, model))
    ref = ref_heuristic(PATHS, CONV, model)
    for ch in j.channels:
        exact = ref.get(ch, Fraction(0))
        if model in ("first_touch", "last_touch", "last_non_direct"):
            assert ours[ch] == exact  # integer credits: bit for bit
        else:
            assert ours[ch] == pytest.approx(float(exact), rel=1e-14, abs=1e-14)
    assert sum(ours.values()) == pytest.approx(sum(CONV), rel=1e-14)


def test_last_non_direct_rules():
    j = journeys_from_lists([["a", "direct", "Direct"], ["direct"], ["direct", "b", "direct"]], [1, 1, 1])
    credit = as_dict(j, heuristic_credit(j, "last_non_direct"))
    # "Direct" and "direct" are both direct (case-insensitive); a direct-only path credits its last touch
    assert credit["a"] == 1 and credit["b"] == 1 and credit["direct"] == 1 and credit["Direct"] == 0


def test_position_based_short_paths():
    j = journeys_from_lists([["a"], ["a", "b"], ["a", "b", "c", "d"]], [1, 1, 1])
    credit = as_dict(j, heuristic_credit(j, "position_based"))
    assert credit == pytest.approx({"a": 1 + 0.5 + 0.4, "b": 0.5 + 0.1, "c": 0.1, "d": 0.4})


def test_time_decay_equals_plain_python():
    rng = np.random.default_rng(3)
    paths, conv, _ = random_paths(5, n=200)
    times = [sorted(rng.random(len(p)) * 30) for p in paths]
    j = journeys_from_lists(paths, conv, times=times)
    for half in (0.5, 7.0, 30.0):
        ours = as_dict(j, heuristic_credit(j, "time_decay", half_life=half))
        ref = ref_heuristic(paths, conv, "time_decay", times=times, half_life=half)
        for ch in j.channels:
            assert ours[ch] == pytest.approx(float(ref[ch]), rel=1e-12)


def test_heuristics_equal_pandas_on_touch_table():
    """A touchpoint table through polars + numpy against a pandas groupby written independently."""
    rng = np.random.default_rng(11)
    n = 3000
    lengths = rng.integers(1, 7, n)
    jid = np.repeat(np.arange(n), lengths)
    df = pd.DataFrame({
        "journey": jid,
        "time": rng.random(jid.size) * 20,
        "channel": rng.choice(["direct", "email", "search", "social", "display"], jid.size),
        "converted": np.repeat(rng.integers(0, 2, n), lengths),
    }).sample(frac=1.0, random_state=1)  # shuffled rows: the reader puts them in time order
    table = pl.DataFrame({c: df[c].to_numpy() for c in df.columns})
    j = journeys_from_touches(table, journey="journey", time="time", channel="channel", converted="converted")
    s = df.sort_values(["journey", "time"], kind="stable")
    g = s.groupby("journey")
    s = s.assign(pos=g.cumcount(), n=g["channel"].transform("size"))
    conv = s[s.converted == 1]
    expected = {
        "first_touch": conv[conv.pos == 0].groupby("channel").size(),
        "last_touch": conv[conv.pos == conv.n - 1].groupby("channel").size(),
        "linear": (1 / conv.n).groupby(conv.channel).sum(),
    }
    nd = conv[conv.channel != "direct"].groupby("journey").tail(1)
    only_direct = conv[~conv.journey.isin(nd.journey)].groupby("journey").tail(1)
    expected["last_non_direct"] = pd.concat([nd, only_direct]).groupby("channel").size()
    for model, series in expected.items():
        ours = as_dict(j, heuristic_credit(j, model))
        for ch in j.channels:
            assert ours[ch] == pytest.approx(float(series.get(ch, 0.0)), rel=1e-12, abs=1e-12), model


# --------------------------------------------------------------------------- Markov


@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_equals_exact_chain(order):
    paths, conv, nulls = random_paths(1, n=60, channels="abcd", max_len=4)
    j = journeys_from_lists(paths, conv, nulls)
    ours = markov_attribution(j, order)
    full, removal = ref_markov(paths, conv, nulls, order)
    assert ours.conversion_probability == pytest.approx(float(full), abs=1e-12)
    for ch, re in zip(j.channels, ours.removal_effects, strict=True):
        assert abs(re - float(removal[ch])) < 1e-9
    assert ours.credit.sum() == pytest.approx(conv.sum(), rel=1e-12)


def test_markov_equals_dense_reference_on_many_paths():
    paths, conv, nulls = random_paths(2, n=5000, channels="abcdefghij", max_len=8)
    j = journeys_from_lists(paths, conv, nulls)
    ours = markov_attribution(j, 1)
    full, removal = ref_markov_dense(paths, conv, nulls)
    assert ours.conversion_probability == pytest.approx(full, abs=1e-12)
    for ch, re in zip(j.channels, ours.removal_effects, strict=True):
        assert abs(re - removal[ch]) < 1e-9


def test_markov_textbook_example():
    """Three journeys: C1 > C2 > C3 converts, C1 nulls, C2 > C3 nulls (a common worked example).

    P(conversion) = 1/2 * 1/2 * 1/2 = 1/4 from start (start → C1 with 2/3, C1 → C2 with 1/2, ...):
    by hand, removing C1 leaves only start → C2 → C3 → conversion 1/3 * 1/2 = 1/6.
    """
    j = journeys_from_lists([["C1", "C2", "C3"], ["C1"], ["C2", "C3"]], [1, 0, 0], [0, 1, 1])
    res = markov_attribution(j, 1)
    # start: C1 2/3, C2 1/3; C1: C2 1/2, null 1/2; C2: C3 1; C3: conv 1/2, null 1/2
    p_full = 2 / 3 * 1 / 2 * 1 / 2 + 1 / 3 * 1 / 2
    assert res.conversion_probability == pytest.approx(p_full, abs=1e-15)
    removal = dict(zip(j.channels, res.removal_effects, strict=True))
    assert removal["C1"] == pytest.approx(1 - (1 / 3 * 1 / 2) / p_full, abs=1e-12)
    assert removal["C2"] == pytest.approx(1.0, abs=1e-12) and removal["C3"] == pytest.approx(1.0, abs=1e-12)


def test_markov_self_loops_do_not_change_removal_effects():
    j1 = journeys_from_lists([["a", "b"], ["b"], ["a"]], [1, 1, 0], [1, 0, 2])
    j2 = journeys_from_lists([["a", "a", "a", "b"], ["b", "b"], ["a"]], [1, 1, 0], [1, 0, 2])
    r1, r2 = markov_attribution(j1), markov_attribution(j2)
    np.testing.assert_allclose(r1.removal_effects, r2.removal_effects, atol=1e-12)


def test_markov_bad_order():
    j = journeys_from_lists([["a"]], [1])
    for bad in (0, 7, 1.5, True):
        with pytest.raises(ParameterError, match="order"):
            markov_attribution(j, bad)


# --------------------------------------------------------------------------- Shapley


def test_shapley_equals_brute_force_permutations():
    paths, conv, _ = random_paths(4, n=80, channels="abcde", max_len=4)
    j = journeys_from_lists(paths, conv)
    ours = as_dict(j, shapley_attribution(j))
    ref = ref_shapley_permutations(paths, conv)
    for ch in j.channels:
        assert ours[ch] == pytest.approx(ref[ch], rel=1e-12, abs=1e-12)


def test_shapley_equals_equal_split_of_distinct_channels():
    paths, conv, _ = random_paths(6, n=3000, channels="abcdefghijklmno", max_len=9)  # 15 channels
    j = journeys_from_lists(paths, conv)
    ours = as_dict(j, shapley_attribution(j))
    ref: dict[str, float] = defaultdict(float)
    for p, c in zip(paths, conv, strict=True):
        for ch in set(p):
            ref[ch] += c / len(set(p))
    for ch in j.channels:
        assert ours[ch] == pytest.approx(ref[ch], rel=1e-10)
    assert sum(ours.values()) == pytest.approx(conv.sum(), rel=1e-12)


def test_shapley_general_game_against_permutations():
    """The coalition machinery on a game that is not additive (v = squared coalition size)."""
    k = 4
    v = np.array([bin(s).count("1") ** 2 for s in range(2**k)], dtype=float)
    phi = shapley_from_coalitions(v, k)
    np.testing.assert_allclose(phi, np.full(k, 16 / 4))
    masks = np.array([0b0011, 0b0100], dtype=np.int64)
    vals = coalition_values(masks, np.array([2.0, 5.0]), 3)
    assert vals.tolist() == [0, 0, 0, 2, 5, 5, 5, 7]


def test_shapley_refuses_more_than_15_channels():
    j = journeys_from_lists([[f"c{i:02d}"] for i in range(16)], [1] * 16)
    with pytest.raises(TooManyChannelsError, match="16 channels"):
        shapley_attribution(j)
    res = attribute(j)
    assert "shapley" in res.skipped and "shapley" not in res.credits and "markov" in res.credits
    with pytest.raises(TooManyChannelsError):
        attribute(j, ["shapley"])


# --------------------------------------------------------------------------- all models together


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from("abcdz"), min_size=1, max_size=6),
                          st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=30))
def test_every_model_credits_sum_to_conversions(rows):
    paths = [p for p, _, _ in rows]
    conv = [c for _, c, _ in rows]
    nulls = [n for _, _, n in rows]
    j = journeys_from_lists(paths, conv, nulls, value=[3.5 * c for c in conv],
                            times=[list(range(len(p))) for p in paths])
    res = attribute(j, direct="z")
    assert set(res.credits) == set(MODELS)
    for m in res.models:
        assert sum(res.credits[m].values()) == pytest.approx(sum(conv), abs=1e-9)
        assert min(res.credits[m].values()) >= -1e-12
        assert sum(res.credits_value[m].values()) == pytest.approx(3.5 * sum(conv), abs=1e-9)
    assert all(0 <= v <= 1 for v in res.removal_effects.values())


def test_value_credit_follows_the_path_value():
    j = journeys_from_lists([["a", "b"], ["b"]], [1, 1], value=[100.0, 10.0])
    res = attribute(j, ["last_touch", "linear", "shapley", "markov"])
    assert res.credits_value["last_touch"] == {"a": 0.0, "b": 110.0}
    assert res.credits_value["linear"] == {"a": 50.0, "b": 60.0}
    assert res.credits_value["shapley"] == {"a": 50.0, "b": 60.0}
    assert sum(res.credits_value["markov"].values()) == pytest.approx(110.0)


def test_attribute_refuses_time_decay_without_times_and_unknown_models():
    j = journeys_from_lists([["a"]], [1])
    assert "time_decay" not in attribute(j).credits
    with pytest.raises(ParameterError, match="time_decay"):
        attribute(j, ["time_decay"])
    with pytest.raises(ParameterError, match="one of"):
        attribute(j, ["u_shaped"])


def test_no_conversions_gives_zero_credits():
    res = attribute(journeys_from_lists([["a", "b"], ["b"]], [0, 0], [3, 1]))
    for m in res.models:
        assert set(res.credits[m].values()) == {0.0}
    assert set(res.removal_effects.values()) == {0.0}


def test_result_dict_and_frame():
    j = journeys_from_lists([["a", "b"], ["b"], ["a"]], [1, 0, 1], [0, 2, 0])
    res = attribute(j, ["linear", "markov"])
    d = res.to_dict()
    assert d["n_journeys"] == 4 and d["n_conversions"] == 2 and d["channels"] == ["a", "b"]
    assert d["models"]["linear"] == {"a": 1.5, "b": 0.5}
    assert "models_value" not in d and set(d["removal_effects"]) == {"a", "b"}
    frame = res.to_frame()
    assert frame.columns == ["model", "channel", "credit", "share"] and frame.height == 4
    assert math.isclose(frame.filter(pl.col("model") == "linear")["share"].sum(), 1.0)


# --------------------------------------------------------------------------- readers


def test_paths_reader_splits_and_strips():
    frame = pl.DataFrame({"path": ["a > b>c", " b ", "c>a"], "conv": [2, 0, 1], "null": [1, 4, 0],
                          "value": [20.0, 0.0, 5.0]})
    j = journeys_from_paths(frame, path="path", conversions="conv", nulls="null", value="value")
    assert j.channels == ("a", "b", "c")
    assert [j.path_text(i, ">") for i in range(3)] == ["a>b>c", "b", "c>a"]
    assert j.n_journeys == 8 and j.n_conversions == 3
    j2 = journeys_from_paths(frame.with_columns(pl.col("path").str.replace_all(">", "|")), path="path",
                             conversions="conv", nulls="null", sep="|")
    np.testing.assert_array_equal(j.codes, j2.codes)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pl.DataFrame({"path": ["a>b", ""], "c": [1, 1], "n": [0, 0]}), "row 2 has an empty path"),
        (pl.DataFrame({"path": ["a>b", None], "c": [1, 1], "n": [0, 0]}), "empty path"),
        (pl.DataFrame({"path": ["a>>b"], "c": [1], "n": [0]}), "empty channel name"),
        (pl.DataFrame({"path": ["a> "], "c": [1], "n": [0]}), "empty channel name"),
        (pl.DataFrame({"path": ["a"], "c": [-1], "n": [0]}), "negative counts"),
        (pl.DataFrame({"path": ["a"], "c": [1], "n": [-2.5]}), "negative counts"),
        (pl.DataFrame({"path": ["a"], "c": [None], "n": [1]}, schema={"path": pl.String, "c": pl.Int64,
                                                                       "n": pl.Int64}), "missing"),
        (pl.DataFrame({"path": ["a"], "c": ["x"], "n": [1]}), "numeric"),
    ],
)
def test_paths_reader_rejects(frame, match):
    with pytest.raises(DataError, match=match):
        journeys_from_paths(frame, path="path", conversions="c", nulls="n")


def _touches(**changes):
    base = {"j": [1, 1, 2, 2], "t": [0.0, 1.0, 0.0, 2.0], "ch": ["a", "b", "b", "c"], "y": [1, 1, 0, 0]}
    base.update(changes)
    return pl.DataFrame(base)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (_touches(j=[1, None, 2, 2]), "missing journey ids"),
        (_touches(y=[1, 0, 0, 0]), "not constant within journey 1"),
        (_touches(y=[2, 2, 0, 0]), "0/1"),
        (_touches(ch=["a", "", "b", "c"]), "empty channel name"),
        (_touches(ch=["a", None, "b", "c"]), "no channel name"),
        (_touches(t=[0.0, None, 0.0, 1.0]), "missing times"),
        (_touches(t=["x", "y", "z", "w"]), "numbers"),
    ],
)
def test_touch_reader_rejects(frame, match):
    with pytest.raises(DataError, match=match):
        journeys_from_touches(frame, journey="j", time="t", channel="ch", converted="y")


def test_touch_reader_sorts_times_and_groups_journeys():
    ordered = pl.DataFrame({"j": ["x", "x", "x", "y", "y"], "t": [1, 2, 3, 1, 5], "ch": list("abcab"),
                            "y": [1, 1, 1, 0, 0]})
    shuffled = ordered[[4, 2, 0, 3, 1]]
    a = journeys_from_touches(ordered, journey="j", time="t", channel="ch", converted="y")
    b = journeys_from_touches(shuffled, journey="j", time="t", channel="ch", converted="y")
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    assert [a.path_text(i, ">") for i in range(2)] == ["a>b>c", "a>b"]


def test_touch_reader_value_and_datetimes():
    import datetime as dt

    frame = pl.DataFrame({
        "j": [1, 1, 2], "ch": ["a", "b", "a"], "y": [True, True, False], "v": [40.0, 40.0, 0.0],
        "t": [dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 8), dt.datetime(2026, 1, 2)],
    })
    j = journeys_from_touches(frame, journey="j", time="t", channel="ch", converted="y", value="v")
    assert j.times[1] - j.times[0] == pytest.approx(7.0)
    res = attribute(j, ["time_decay"], half_life=7.0)
    assert res.credits["time_decay"] == pytest.approx({"a": 1 / 3, "b": 2 / 3})
    assert res.credits_value["time_decay"] == pytest.approx({"a": 40 / 3, "b": 80 / 3})
    with pytest.raises(DataError, match="not constant within journey 1"):
        journeys_from_touches(frame.with_columns(v=pl.Series([40.0, 41.0, 0.0])), journey="j", time="t",
                              channel="ch", converted="y", value="v")


def test_enum_channels_are_coded_like_text():
    text = pl.DataFrame({"j": [1, 1, 2, 3], "t": [0, 1, 0, 0], "ch": ["b ", "a", " c", "b"],
                         "y": [1, 1, 0, 1]})
    enum = text.with_columns(pl.col("ch").cast(pl.Enum(["zz", " c", "b ", "a", "b"])))
    a = journeys_from_touches(text, journey="j", time="t", channel="ch", converted="y")
    b = journeys_from_touches(enum, journey="j", time="t", channel="ch", converted="y")
    assert a.channels == b.channels == ("a", "b", "c")  # stripped, unused categories dropped
    np.testing.assert_array_equal(a.codes, b.codes)
    with pytest.raises(DataError, match="empty channel name"):
        journeys_from_touches(text.with_columns(pl.col("ch").cast(pl.Enum(["b ", "a", " c", "b", " "]))
                                                .replace({"a": " "})), journey="j", time="t", channel="ch",
                              converted="y")


def test_dates_as_times():
    import datetime as dt

    frame = pl.DataFrame({"j": [1, 1], "ch": ["a", "b"], "y": [1, 1],
                          "t": [dt.date(2026, 1, 1), dt.date(2026, 1, 15)]})
    j = journeys_from_touches(frame, journey="j", time="t", channel="ch", converted="y")
    res = attribute(j, ["time_decay"], half_life=14.0)
    assert res.credits["time_decay"] == pytest.approx({"a": 1 / 3, "b": 2 / 3})
