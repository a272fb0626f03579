"""Reproducible, block-parallel random streams.

Customers are cut into fixed *chunks* of :data:`CHUNK_SIZE`; chunk ``i`` draws from its own generator,
``SeedSequence(seed, spawn_key=(stream, i))`` (the same child that ``SeedSequence(seed).spawn`` would
give). A *block* (the unit of work handed to one worker) is a run of whole chunks, so the simulated table
is byte-identical whatever the block size or the number of workers.

Each simulator draws from its own stream so that one seed never gives two studies the same draws:
stream 1 is the remarketing simulator, stream 2 the customer-lifetime (loyalty) simulator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor

import numpy as np
import polars as pl

from experiments.errors import ParameterError

__all__ = ["CHUNK_SIZE", "chunk_bounds", "chunk_rng", "simulate_in_blocks"]

#: Customers per random stream. Fixed: changing it changes every simulated table.
CHUNK_SIZE: int = 16_384


def chunk_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """Generator of chunk ``index`` of stream ``stream`` (one stream per simulator)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream, index))))


def chunk_bounds(n: int) -> list[tuple[int, int, int]]:
    """``(index, start, stop)`` of every chunk covering ``n`` customers."""
    return [(i, s, min(s + CHUNK_SIZE, n)) for i, s in enumerate(range(0, n, CHUNK_SIZE))]


def _blocks(n: int, block_size: int) -> Iterator[list[tuple[int, int, int]]]:
    per_block = max(1, -(-block_size // CHUNK_SIZE))
    chunks = chunk_bounds(n)
    for k in range(0, len(chunks), per_block):
        yield chunks[k : k + per_block]


def simulate_in_blocks(
    simulate_chunk: Callable[[np.random.Generator, int, int], pl.DataFrame],
    *,
    n: int,
    seed: int,
    stream: int = 0,
    block_size: int = 1_048_576,
    workers: int = 1,
    executor: Executor | None = None,
) -> pl.DataFrame:
    """Run ``simulate_chunk(rng, start, stop)`` over all chunks and stack the frames in order.

    Parameters
    ----------
    simulate_chunk
        Builds the rows ``start..stop-1`` from ``rng``; must draw only from ``rng``.
    n, seed, stream
        Number of customers, the run's seed, and the simulator's stream number.
    block_size
        Customers per unit of work (rounded up to whole chunks); does not change the result.
    workers
        Threads used when no ``executor`` is given.
    executor
        Any :class:`concurrent.futures.Executor` (e.g. ``distributed.Client.get_executor()``).
    """
    if block_size < 1:
        raise ParameterError("block_size", block_size, "an integer >= 1")

    def run_block(chunks: list[tuple[int, int, int]]) -> pl.DataFrame:
        return pl.concat([simulate_chunk(chunk_rng(seed, i, stream), a, b) for i, a, b in chunks])

    blocks = list(_blocks(n, block_size))
    if not blocks:
        raise ParameterError("n_customers", n, "an integer >= 1")
    if executor is None and workers <= 1:
        frames = [run_block(b) for b in blocks]
    elif executor is not None:
        frames = list(executor.map(run_block, blocks))
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            frames = list(pool.map(run_block, blocks))
    # One chunk per column whatever the block layout, so written files do not depend on block size
    # (``concat(rechunk=True)`` leaves a lone frame's chunks as they are).
    return pl.concat(frames).rechunk()
