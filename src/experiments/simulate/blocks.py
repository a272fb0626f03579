"""Reproducible, block-parallel random streams.

Customers are cut into fixed *chunks* of :data:`CHUNK_SIZE`; chunk ``i`` draws from its own generator,
``SeedSequence(seed, spawn_key=(stream, i))`` (the same child that ``SeedSequence(seed).spawn`` would
give). A *block* (the unit of work handed to one worker) is a run of whole chunks, so the simulated table
is byte-identical whatever the block size or the number of workers.

Each simulator draws from its own stream so that one seed never gives two studies the same draws:
stream 1 is the remarketing simulator, stream 2 the customer-lifetime (loyalty) simulator.

A simulator hands its per-chunk function to :func:`simulate_in_blocks`, and may hand an ``assemble``
function too: the chunks then return raw columns (numpy arrays) and ``assemble`` builds the block's
tables from the list of its chunks' columns at once, which spares the per-chunk cost of building small
polars frames. A block's rows are the same either way. The same call can instead be
*captured* as a :class:`BlockPlan` (:func:`capture_plan`): the plan makes any block on demand, in order,
on threads or any :class:`concurrent.futures.Executor`, so a caller can write blocks to disk as they
are made instead of holding the whole table (see :mod:`experiments.simulate.streaming`).
"""

from __future__ import annotations

import contextvars
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import polars as pl

from experiments.errors import ParameterError

__all__ = [
    "CHUNK_SIZE",
    "Assembler",
    "BlockPlan",
    "ChunkSimulator",
    "Tables",
    "capture_plan",
    "chunk_bounds",
    "chunk_rng",
    "default_workers",
    "simulate_in_blocks",
    "stack_tables",
]

#: Customers per random stream. Fixed: changing it changes every simulated table. A chunk is also the
#: unit of numpy work, and each numpy call holds the GIL for its Python overhead: at 16,384 customers
#: two worker threads simulated remarketing customers only 1.4 times as fast as one; at 65,536, with
#: a quarter of the calls, 1.9 times (measured on 4 million customers; one thread also got 8% faster).
CHUNK_SIZE: int = 65_536

#: What a chunk (or a block, or a whole simulation) yields: one table, or several by name (the first
#: is the main table, e.g. ``{"customers": ..., "purchases": ...}``).
Tables = pl.DataFrame | dict[str, pl.DataFrame]
#: ``simulate_chunk(rng, start, stop)``: the rows ``start..stop-1``, drawn only from ``rng``.
ChunkSimulator = Callable[[np.random.Generator, int, int], Any]
#: ``assemble(parts)``: the tables of a block from what ``simulate_chunk`` returned for each of its
#: chunks, in order.
Assembler = Callable[[list[Any]], Tables]

_CAPTURING: contextvars.ContextVar[bool] = contextvars.ContextVar("capturing_block_plan", default=False)


def chunk_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """Generator of chunk ``index`` of stream ``stream`` (one stream per simulator)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream, index))))


def chunk_bounds(n: int) -> list[tuple[int, int, int]]:
    """``(index, start, stop)`` of every chunk covering ``n`` customers."""
    return [(i, s, min(s + CHUNK_SIZE, n)) for i, s in enumerate(range(0, n, CHUNK_SIZE))]


def default_workers() -> int:
    """Cores this process may run on (its CPU affinity mask where the OS has one, else ``os.cpu_count``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def stack_tables(parts: list[Tables]) -> Tables:
    """Stack blocks in order, table by table; one chunk per column whatever the block layout."""
    if not parts:
        raise ValueError("no blocks to stack")
    if isinstance(parts[0], pl.DataFrame):
        return pl.concat(parts).rechunk()  # type: ignore[arg-type]
    names = list(parts[0])
    return {name: pl.concat([p[name] for p in parts]).rechunk() for name in names}  # type: ignore[index]


def _concat_block(parts: list[Tables]) -> Tables:
    if isinstance(parts[0], pl.DataFrame):
        return parts[0] if len(parts) == 1 else pl.concat(parts)  # type: ignore[arg-type]
    return {name: pl.concat([p[name] for p in parts]) for name in parts[0]}  # type: ignore[index]


@dataclass(frozen=True)
class BlockPlan:
    """A simulation cut into chunks, not yet run: makes any block, in order, on any workers.

    Parameters
    ----------
    simulate_chunk
        Builds the rows ``start..stop-1`` from ``rng``; must draw only from ``rng``.
    n, seed, stream
        Number of customers, the run's seed, and the simulator's stream number.
    assemble
        Builds a block's tables from its chunks' parts (:data:`Assembler`); ``None`` when
        ``simulate_chunk`` returns tables, which are then stacked.
    source
        ``(simulate, args, kwargs)`` when the plan was captured from a simulator
        (:func:`capture_plan`): a pickled plan is captured again from it in the receiving process, so
        plans of simulators with local per-chunk functions still travel to process executors.
    """

    simulate_chunk: ChunkSimulator
    n: int
    seed: int
    stream: int = 0
    assemble: Assembler | None = None
    source: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None = field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int | np.integer) or self.n < 1:
            raise ParameterError("n_customers", self.n, "an integer >= 1")

    def __reduce__(self) -> tuple[Any, ...]:
        if self.source is not None:
            simulate, args, kwargs = self.source
            return (_recapture, (simulate, args, kwargs))
        return (BlockPlan, (self.simulate_chunk, self.n, self.seed, self.stream, self.assemble))

    def chunks(self) -> list[tuple[int, int, int]]:
        """``(index, start, stop)`` of every chunk."""
        return chunk_bounds(self.n)

    def blocks(self, block_size: int) -> list[list[tuple[int, int, int]]]:
        """The chunks grouped into blocks of ``block_size`` customers (rounded up to whole chunks)."""
        if isinstance(block_size, bool) or not isinstance(block_size, int | np.integer) or block_size < 1:
            raise ParameterError("block_size", block_size, "an integer >= 1")
        per_block = max(1, -(-int(block_size) // CHUNK_SIZE))
        chunks = self.chunks()
        return [chunks[k : k + per_block] for k in range(0, len(chunks), per_block)]

    def run(self, chunks: list[tuple[int, int, int]]) -> Tables:
        """The rows of ``chunks`` (a block), stacked in order."""
        parts = [self.simulate_chunk(chunk_rng(self.seed, i, self.stream), a, b) for i, a, b in chunks]
        return _concat_block(parts) if self.assemble is None else self.assemble(parts)

    def probe(self) -> Tables:
        """A few rows of the first chunk: the tables' names and schemas, cheaply (content not used)."""
        part = self.simulate_chunk(chunk_rng(self.seed, 0, self.stream), 0, min(self.n, 64))
        return part if self.assemble is None else self.assemble([part])

    def iter_blocks(
        self, *, block_size: int = 1_048_576, workers: int = 1, executor: Executor | None = None
    ) -> Iterator[Tables]:
        """Yield the blocks in order while up to ``workers`` of them are being made ahead.

        At most ``workers + 1`` blocks are in flight or waiting, so memory is bounded by the block size,
        not by ``n``. Closing the iterator cancels the blocks not started and waits for running ones.

        Parameters
        ----------
        block_size
            Customers per unit of work (rounded up to whole chunks); does not change the rows.
        workers
            Blocks made at once: threads when no ``executor`` is given (numpy and polars release the
            GIL in their loops; 1 makes every block in the calling thread), else the look-ahead.
        executor
            Any :class:`concurrent.futures.Executor` (a process pool, ``distributed.Client
            .get_executor()``); it receives the plan, pickled, with each block.
        """
        blocks = self.blocks(block_size)
        if executor is None and workers <= 1:
            for b in blocks:
                yield self.run(b)
            return
        own = executor is None
        pool: Executor = ThreadPoolExecutor(max_workers=workers) if own else executor  # type: ignore[assignment]
        ahead = workers + 1
        pending: deque[Future[Tables]] = deque()
        todo = iter(blocks)
        try:
            for b in todo:
                pending.append(pool.submit(_run_block, self, b))
                if len(pending) >= ahead:
                    break
            while pending:
                done = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.submit(_run_block, self, nxt))
                yield done
        finally:
            for f in pending:
                f.cancel()
            if own:
                pool.shutdown(wait=True, cancel_futures=True)

    def collect(
        self, *, block_size: int = 1_048_576, workers: int = 1, executor: Executor | None = None
    ) -> Tables:
        """Run every block and stack them in order (the whole table in memory)."""
        return stack_tables(list(self.iter_blocks(block_size=block_size, workers=workers,
                                                  executor=executor)))


def _run_block(plan: BlockPlan, chunks: list[tuple[int, int, int]]) -> Tables:
    return plan.run(chunks)


class _Captured(BaseException):
    """Carries a plan out of a simulator that :func:`capture_plan` runs (never seen by callers)."""

    def __init__(self, plan: BlockPlan) -> None:
        super().__init__("block plan captured")
        self.plan = plan


def capture_plan(simulate: Callable[..., Any], *args: Any, **kwargs: Any) -> BlockPlan | Any:
    """The :class:`BlockPlan` that ``simulate(*args, **kwargs)`` would run, without running it.

    The simulator is called until it reaches :func:`simulate_in_blocks`; that call is turned into the
    plan and the simulator is abandoned there. This holds for any simulator whose table is its chunks
    stacked in order, which is the contract of :func:`simulate_in_blocks`; work a simulator does on
    the stacked table afterwards is not part of the plan.

    Returns
    -------
    BlockPlan or object
        The plan; or, for a simulator that never calls :func:`simulate_in_blocks`, whatever it
        returned (it has then run in full).
    """
    token = _CAPTURING.set(True)
    try:
        result = simulate(*args, **kwargs)
    except _Captured as captured:
        plan = captured.plan
        return BlockPlan(plan.simulate_chunk, plan.n, plan.seed, plan.stream, plan.assemble,
                         source=(simulate, tuple(args), dict(kwargs)))
    finally:
        _CAPTURING.reset(token)
    return result


def _recapture(simulate: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> BlockPlan:
    plan = capture_plan(simulate, *args, **kwargs)
    if not isinstance(plan, BlockPlan):
        raise TypeError(f"{simulate!r} no longer simulates through simulate_in_blocks")
    return plan


@overload
def simulate_in_blocks(
    simulate_chunk: Callable[[np.random.Generator, int, int], Any],
    *,
    n: int,
    seed: int,
    stream: int = 0,
    block_size: int = 1_048_576,
    workers: int = 1,
    executor: Executor | None = None,
    assemble: Assembler | None = None,
) -> pl.DataFrame: ...


@overload
def simulate_in_blocks(
    simulate_chunk: Callable[[np.random.Generator, int, int], dict[str, pl.DataFrame]],
    *,
    n: int,
    seed: int,
    stream: int = 0,
    block_size: int = 1_048_576,
    workers: int = 1,
    executor: Executor | None = None,
    assemble: Assembler | None = None,
) -> dict[str, pl.DataFrame]: ...


def simulate_in_blocks(
    simulate_chunk: ChunkSimulator,
    *,
    n: int,
    seed: int,
    stream: int = 0,
    block_size: int = 1_048_576,
    workers: int = 1,
    executor: Executor | None = None,
    assemble: Assembler | None = None,
) -> Tables:
    """Run ``simulate_chunk(rng, start, stop)`` over all chunks and stack the frames in order.

    Parameters
    ----------
    simulate_chunk
        Builds the rows ``start..stop-1`` from ``rng``; must draw only from ``rng``. It returns one
        frame, or a dict of frames by table name (every chunk the same names, the main table first).
    n, seed, stream
        Number of customers, the run's seed, and the simulator's stream number.
    block_size
        Customers per unit of work (rounded up to whole chunks); does not change the result.
    workers
        Threads used when no ``executor`` is given.
    executor
        Any :class:`concurrent.futures.Executor` (e.g. ``distributed.Client.get_executor()``).
    assemble
        Builds each block's tables from its chunks' parts (then ``simulate_chunk`` may return raw
        columns); ``None`` to stack the chunks' tables.

    Returns
    -------
    polars.DataFrame or dict of polars.DataFrame
        The stacked table (or tables), one chunk per column whatever the block layout, so written
        files do not depend on the block size.
    """
    if isinstance(block_size, bool) or not isinstance(block_size, int | np.integer) or block_size < 1:
        raise ParameterError("block_size", block_size, "an integer >= 1")
    plan = BlockPlan(simulate_chunk, n, seed, stream, assemble)
    if _CAPTURING.get():
        raise _Captured(plan)
    return plan.collect(block_size=block_size, workers=workers, executor=executor)
