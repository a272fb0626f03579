"""Parameter sweeps: a grid of runs of one study, executed on Dask's ``distributed``, and the sweep report.

A :class:`Grid` is the cartesian product of the swept values (``-g NAME=V1,V2,...``) over fixed values
(``-p NAME VALUE``). Every point is validated with the study's scenario before anything runs, so a bad
value fails the whole grid with one line and nothing written. Each point is then a normal run
(:func:`~experiments.runs.study_run.run_study`), executed by a Dask worker and recorded in the run
registry with the sweep's id.

The engine is a ``distributed`` client: a :class:`~distributed.LocalCluster` of N single-threaded
worker processes, or an existing scheduler's address (how a team moves the same sweep onto a cluster).
Each worker keeps :class:`~experiments.runs.kernels.WarmKernels` through a worker plugin
(:mod:`experiments.runs.sweep_worker`): one kernel per worker, started with the study's imports when
the worker joins and reset between points, so kernel start-up and the study's imports are paid once per
worker, not once per point.

When every point has finished, the sweep's folder ``<reports_dir>/<study>/sweeps/<sweep-id>/`` gets
``sweep.json`` and ``sweep.html`` (:mod:`experiments.render.sweep_page`), built in a staging folder and
renamed into place, then the sweep is recorded in the registry and the index is rewritten.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import logging
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from distributed import Client, LocalCluster, as_completed
from distributed.comm import connect
from distributed.comm.addressing import parse_address, parse_host_port

from experiments.errors import ExperimentsError, ParameterError
from experiments.outputs import check_folder
from experiments.paths import REPORTS_DIR
from experiments.render.sweep_page import best_sentence, render_sweep
from experiments.resources import MEMORY_SHARE, gib, memory_budget, physical_memory
from experiments.runs import sweep_worker
from experiments.runs.index_file import write_index
from experiments.runs.kernels import check_kernel
from experiments.runs.progress import bar
from experiments.runs.run_registry import SWEEPS_DIR, RunRegistry
from experiments.runs.staging import STAGING
from experiments.runs.study_run import clean_stale_staging, study_modules
from experiments.studies import registry
from experiments.studies.base import SweepFigure

if TYPE_CHECKING:
    from experiments.studies.base import SweepFigure

__all__ = [
    "CONNECT_TIMEOUT",
    "MAX_POINTS",
    "WORKER_BYTES",
    "Grid",
    "SweepResult",
    "best_point",
    "build_grid",
    "check_scheduler",
    "parse_axis",
    "parse_scheduler",
    "run_sweep",
    "worker_bound",
]

#: Most points one sweep may have (a larger grid is refused before anything runs).
MAX_POINTS = 1000
#: Seconds a scheduler has to accept the connection, and again to answer Dask's handshake.
CONNECT_TIMEOUT = 5.0
#: Memory one local worker needs besides its point's data: the worker process and its kernel with the
#: study's imports (a run's processes peaked at 160 to 270 MiB at 2,000 customers, by study; with margin).
WORKER_BYTES = 512 * 2**20
_SCHEMES = ("tcp", "tls")


@dataclass(frozen=True)
class Grid:
    """The points of a sweep: the cartesian product of ``axes`` (first axis slowest) over ``fixed``."""

    study: str
    axes: dict[str, tuple[Any, ...]]
    fixed: dict[str, Any] = field(default_factory=dict)

    def points(self) -> list[dict[str, Any]]:
        """The swept values of each point, in grid order."""
        names = list(self.axes)
        return [dict(zip(names, values, strict=True)) for values in itertools.product(*self.axes.values())]

    def parameters(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """The run's parameter overrides at ``point``: the fixed values and the point's."""
        return {**self.fixed, **point}

    def __len__(self) -> int:
        n = 1
        for values in self.axes.values():
            n *= len(values)
        return n


def parse_axis(text: str, coerce: Callable[[str], Any] = str) -> tuple[str, tuple[Any, ...]]:
    """``NAME=V1,V2,...`` as ``(name, values)``; values are split on ``;`` instead when the text has one
    (for values that hold commas, e.g. ``channels=display,email;display``).

    Raises
    ------
    ExperimentsError
        No ``=``, an empty name or value, or a value given twice.
    """
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ExperimentsError(f"-g {text!r}: give NAME=V1,V2,... (e.g. -g frequency_cap=2,4,8)")
    parts = [p.strip() for p in rest.split(";" if ";" in rest else ",")]
    if not rest.strip() or any(not p for p in parts):
        raise ExperimentsError(f"-g {text!r}: every value of {name!r} must be non-empty")
    values = tuple(coerce(p) for p in parts)
    seen: list[Any] = []
    for v in values:
        if v in seen:
            raise ExperimentsError(f"-g {text!r}: value {v!r} of {name!r} given twice")
        seen.append(v)
    return name, values


def build_grid(study: str, axes: Sequence[tuple[str, tuple[Any, ...]]], fixed: Mapping[str, Any]) -> Grid:
    """A validated grid: every point's parameters pass the study's scenario, or one line is raised.

    Raises
    ------
    ParameterError
        Unknown study or parameter name, or a value the scenario rejects (at any point).
    ExperimentsError
        No axis, an axis given twice or also fixed, or more than :data:`MAX_POINTS` points.
    """
    spec = registry.get(study)
    if not axes:
        raise ExperimentsError("give at least one -g NAME=V1,V2,... to sweep")
    names = [name for name, _ in axes]
    for name in names:
        if names.count(name) > 1:
            raise ExperimentsError(f"-g {name}: swept twice; give all its values in one -g")
        if name in fixed:
            raise ExperimentsError(f"parameter {name!r} is both swept (-g) and fixed (-p)")
    spec.scenario.merged({**fixed, **{n: v[0] for n, v in axes}})  # unknown names, before anything else
    grid = Grid(study, {name: tuple(values) for name, values in axes}, dict(fixed))
    if len(grid) > MAX_POINTS:
        raise ExperimentsError(f"the grid has {len(grid):,} points; at most {MAX_POINTS:,} are allowed")
    for point in grid.points():
        spec.scenario.from_params(grid.parameters(point))
    return grid


def parse_scheduler(address: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a scheduler address, read by ``distributed``'s own parser (``tcp://`` is
    assumed when no scheme is given, as ``distributed.Client`` does).

    Raises
    ------
    ParameterError
        An empty address, a scheme other than tcp or tls, no host, or a port outside 1 to 65535.
    """
    rule = "a Dask scheduler address: tcp://HOST:PORT (or tls://HOST:PORT), e.g. tcp://10.0.0.5:8786"
    if not isinstance(address, str) or not address.strip():
        raise ParameterError("--scheduler", address, rule)
    try:
        scheme, location = parse_address(address.strip(), strict=False)
        if scheme not in _SCHEMES:
            raise ValueError(scheme)
        host, port = parse_host_port(location)
    except (ValueError, TypeError):
        raise ParameterError("--scheduler", address, rule) from None
    if not host or not 0 < int(port) < 65536:
        raise ParameterError("--scheduler", address, rule)
    return scheme, host, int(port)


def check_scheduler(address: str, *, timeout: float = CONNECT_TIMEOUT) -> None:
    """Check that a Dask scheduler answers at ``address``, within ``timeout`` seconds for the connection
    and again for the handshake, before any work starts.

    Raises
    ------
    ParameterError
        The address is malformed (:func:`parse_scheduler`).
    ExperimentsError
        One line naming the address and what failed: the connection refused, the host not found or
        unreachable, no answer in time, or something other than a Dask scheduler answering there (an
        HTTP server, say, or a Dask worker).
    """
    scheme, host, port = parse_scheduler(address)

    def fail(what: str) -> ExperimentsError:
        return ExperimentsError(f"--scheduler {address}: {what}")

    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except ConnectionRefusedError:
        raise fail(f"connection refused: nothing listens on port {port} of {host} (is the scheduler "
                   "running?)") from None
    except socket.gaierror:
        raise fail(f"host {host!r} not found") from None
    except TimeoutError:
        raise fail(f"no answer to the connection within {timeout:g} s: {host} is unreachable or a firewall "
                   "drops the connection") from None
    except OSError as exc:
        raise fail(f"cannot connect: {exc.strerror or exc}") from None
    if scheme != "tcp":  # a TLS handshake needs the cluster's certificates: the client's own check follows
        return
    kind = _identity(address, timeout)
    if kind != "Scheduler":
        if kind is None:
            other = _http_server(host, port)
            raise fail("the connection was accepted, but " + (
                "an HTTP server answers there, not a Dask scheduler" if other else
                f"no Dask scheduler answered the handshake within {timeout:g} s (something else listens "
                "there)"))
        raise fail(f"a Dask {kind} answers there, not a scheduler (give the scheduler's address)")


def _identity(address: str, timeout: float) -> str | None:
    """The ``type`` a Dask server at ``address`` reports (``Scheduler``, ``Worker``, ...); None when nothing
    completes Dask's handshake within ``timeout`` seconds."""
    async def ask() -> Any:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    # in a thread of its own: the caller may be inside a running event loop (a notebook, a Dask client)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            reply = pool.submit(asyncio.run, asyncio.wait_for(ask(), timeout)).result()
        except Exception:  # refused, timed out, or a reply outside Dask's protocol (whatever it raised)
            return None
    return str(reply.get("type") or "server") if isinstance(reply, dict) else None


def _http_server(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether an HTTP server answers at ``host:port`` (asked once nothing completed Dask's handshake)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"HEAD / HTTP/1.0\r\nHost: " + host.encode("ascii", "replace") + b"\r\n\r\n")
            return sock.recv(5) == b"HTTP/"
    except (OSError, UnicodeError):
        return False


def worker_bound(grid: Grid) -> tuple[int, str]:
    """The most local workers this machine holds for ``grid``, and why, in words.

    One worker per core; and all of them at once within the memory an in-memory run may plan to use
    (:func:`~experiments.resources.memory_budget`), each holding :data:`WORKER_BYTES` plus the largest
    point's data (the study's measured bytes per unit of its size parameters).
    """
    cores = os.cpu_count() or 1
    scenario = registry.get(grid.study).scenario
    budget = memory_budget()
    if budget is None:
        return cores, f"{cores} core{'s' if cores != 1 else ''}"
    data = 0
    if scenario.memory is not None:
        names, per_unit = scenario.memory
        for point in grid.points():
            merged = scenario.merged(grid.parameters(point))
            size = 1
            for name in names:
                size *= int(scenario.param(name).parse(merged[name]))
            data = max(data, size * per_unit)
    each = WORKER_BYTES + data
    by_memory = max(1, budget // each)
    total = physical_memory() or budget
    why = (f"{cores} core{'s' if cores != 1 else ''}; {MEMORY_SHARE:.0%} of {gib(total)} memory holds "
           f"{by_memory} worker{'s' if by_memory != 1 else ''} of about {gib(each)} each")
    return min(cores, by_memory), why


@dataclass(frozen=True)
class SweepResult:
    """Where a sweep landed: its folder, report, points (one dict each, in grid order) and best point."""

    sweep_id: str
    study: str
    folder: Path
    html: Path
    points: list[dict[str, Any]]
    best: dict[str, Any] | None
    seconds: float
    #: What the points are ranked by, in words (the study's sweep figure).
    ranked_by: str = "the first figure"

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The points whose run failed (each with its ``error``)."""
        return [p for p in self.points if p.get("error")]


def _sweep_id(grid: Grid) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    text = json.dumps({"study": grid.study, "axes": grid.axes, "fixed": grid.fixed}, sort_keys=True,
                      default=str)
    return f"{stamp[:15]}{stamp[21:]}-{stamp[15:21]}-{hashlib.sha1(text.encode()).hexdigest()[:6]}"


def best_point(points: Sequence[Mapping[str, Any]], figure: SweepFigure | str | None,
               parameters: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
               ) -> dict[str, Any] | None:
    """The point whose ranked figure has the highest estimate; None when no point has it.

    Parameters
    ----------
    points
        The sweep's points (``{index, point, headline: {figures}, ...}``).
    figure
        The study's :class:`~experiments.studies.base.SweepFigure` (name and group); a bare name ranks by
        that figure in any group; None ranks by the first figure (and group) of the first finished point.
    parameters
        ``point -> its parameters`` (fills ``{parameter}`` fields of the figure's name); the point's own
        swept values when None.
    """
    done = [p for p in points if not p.get("error") and (p.get("headline") or {}).get("figures")]
    if not done:
        return None
    if figure is None:
        first = done[0]["headline"]["figures"][0]
        figure = SweepFigure(first["name"], first.get("group") or "",
                             str(first.get("label") or first["name"]))
    elif isinstance(figure, str):
        figure = SweepFigure(figure, None, figure.replace("_", " "))
    best: tuple[float, Mapping[str, Any], Mapping[str, Any]] | None = None
    for p in done:
        params = parameters(p) if parameters is not None else p.get("point") or {}
        for f in p["headline"]["figures"]:
            if figure.matches(f, params) and isinstance(f.get("estimate"), (int, float)):
                if best is None or f["estimate"] > best[0]:
                    best = (float(f["estimate"]), p, f)
    if best is None:
        return None
    _, p, f = best
    named = replace(figure, name=str(f["name"]))  # ``{parameter}`` fields filled, as at the best point
    return {"index": p["index"], "point": dict(p["point"]), "run_id": p.get("run_id"), "html": p.get("html"),
            "figure": dict(f), "ranked_by": named.to_dict(), "ranked_words": named.words(),
            "tone": (p.get("headline") or {}).get("tone") or "neutral",
            "headline_text": (p.get("headline") or {}).get("headline") or ""}


@contextlib.contextmanager
def _client(workers: int | None, scheduler: str | None, verbose: bool) -> Iterator[tuple[Any, str]]:
    """A ``distributed`` client: to ``scheduler``, or to a new local cluster of ``workers`` processes."""
    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT:g}s")
        except (OSError, TimeoutError) as exc:
            raise ExperimentsError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        with client:
            yield client, f"scheduler at {scheduler}"
        return
    n = workers or os.cpu_count() or 1
    quiet = logging.WARNING if verbose else logging.CRITICAL
    with LocalCluster(n_workers=0, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=quiet) as cluster, Client(cluster) as client:
        with _new_processes_ignore_ctrl_c(n):
            cluster.scale(n)
        client.wait_for_workers(n)
        yield client, f"local cluster of {n} worker process{'es' if n != 1 else ''}"


@contextlib.contextmanager
def _new_processes_ignore_ctrl_c(n: int, timeout: float = 60.0) -> Iterator[None]:
    """Ignore SIGINT until ``n`` worker processes have been started, then answer it again.

    The terminal sends Ctrl-C to the whole process group: the driver alone should answer it (closing the
    cluster, in one line), not every worker with a traceback of its own. A process started while SIGINT
    is ignored keeps ignoring it; the window lasts only until the workers exist (a fraction of a second),
    not until they are ready.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def spawned() -> int:
        found = 0
        for child in psutil.Process().children():
            try:
                found += "--multiprocessing-fork" in child.cmdline()
            except psutil.Error:
                pass
        return found

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
        deadline = time.monotonic() + timeout
        while spawned() < n and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        signal.signal(signal.SIGINT, previous)


def run_sweep(
    grid: Grid,
    *,
    reports_dir: Path | str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    kernel: str = "python3",
    verbose: bool = False,
    progress: bool = False,
    reuse_kernels: bool = True,
) -> SweepResult:
    """Run every point of ``grid`` on Dask, then write the sweep's report, record it and rewrite the index.

    Parameters
    ----------
    grid
        A grid from :func:`build_grid` (already validated).
    reports_dir
        Root of all reports (default ``reports/``); it must be shared with the workers.
    workers
        Worker processes of the local cluster, at most :func:`worker_bound` (the default); not with
        ``scheduler``.
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``) instead of a local cluster; checked
        first (:func:`check_scheduler`).
    kernel, verbose
        Jupyter kernel name, and whether the kernels' stderr comes through.
    progress
        Draw a progress bar on standard error.
    reuse_kernels
        Keep one kernel per worker, reset between points (default), or give each point a fresh kernel
        (started while the previous point runs), for comparison.

    Raises
    ------
    ExperimentsError
        The scheduler cannot be reached or is not one, more workers than the machine holds, or the kernel
        is not installed (before any point runs).
    """
    if workers is not None and scheduler:
        raise ExperimentsError("--workers sizes the local cluster; with --scheduler the cluster has its own")
    if workers is not None and workers < 1:
        raise ParameterError("--workers", workers, "an integer >= 1")
    if scheduler is not None:
        check_scheduler(scheduler)
    else:
        most, why = worker_bound(grid)
        if workers is not None and workers > most:
            raise ParameterError("--workers", workers, f"at most {most} on this machine ({why})")
        workers = workers or most
    root = check_folder(reports_dir if reports_dir is not None else REPORTS_DIR, option="--reports-dir")
    check_kernel(kernel)
    spec = registry.get(grid.study)
    started = time.time()
    sweep_id = _sweep_id(grid)
    root_abs = root.resolve()
    points = grid.points()
    results: list[dict[str, Any] | None] = [None] * len(points)
    created = [d for d in (root, root / grid.study) if not d.exists()]
    try:
        engine = _run_points(grid, points, results, root_abs, sweep_id, workers=workers, scheduler=scheduler,
                             kernel=kernel, verbose=verbose, progress=progress, reuse=reuse_kernels)
        clean_stale_staging(root)
        done = [r for r in results if r is not None]
        meta = _sweep_meta(grid, spec, sweep_id, started, done, engine=engine, kernel=kernel,
                           reuse_kernels=reuse_kernels)
        final = _write_sweep(root, meta)
    except BaseException:
        if root.is_dir():  # workers stopped mid-run (Ctrl-C) leave staging folders of dead processes
            clean_stale_staging(root)
        for folder in reversed(created):  # and no empty folder made for this sweep
            with contextlib.suppress(OSError):
                folder.rmdir()
        if any(r is not None and not r.get("error") for r in results):
            write_index(root)  # the points that finished are runs on record: list them
        raise
    RunRegistry(root).add_sweep(meta)
    write_index(root)
    return SweepResult(sweep_id, grid.study, final, final / "sweep.html", done, meta["best"], meta["seconds"],
                       meta["ranked_by"])


def _sweep_meta(grid: Grid, spec: Any, sweep_id: str, started: float, done: list[dict[str, Any]], *,
                engine: str, kernel: str, reuse_kernels: bool) -> dict[str, Any]:
    """The sweep's ``sweep.json``: settings, every point's result, and the best point."""
    meta: dict[str, Any] = {
        "sweep_id": sweep_id, "study": grid.study, "question": spec.question,
        "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 2), "grid": {k: list(v) for k, v in grid.axes.items()},
        "fixed": grid.fixed, "sweep_figure": spec.sweep_figure.to_dict() if spec.sweep_figure else None,
        "ranked_by": spec.sweep_figure.words() if spec.sweep_figure else "the first figure",
        "engine": engine, "kernel": kernel,
        "kernels": "one per worker, reset between points" if reuse_kernels else "a fresh kernel per point",
        "points": done, "failed": sum(1 for r in done if r.get("error")),
        "best": None, "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    best = best_point(done, spec.sweep_figure,
                      lambda p: spec.scenario.merged(grid.parameters(p.get("point") or {})))
    if best is not None:
        best["sentence"] = best_sentence(best, meta)
    meta["best"] = best
    return meta


def _write_sweep(root: Path, meta: dict[str, Any]) -> Path:
    """Write ``sweep.json`` and ``sweep.html`` in a staging folder and rename it into place."""
    folder = root / meta["study"] / SWEEPS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f"{STAGING}{meta['sweep_id']}-{os.getpid()}"
    final = folder / meta["sweep_id"]
    try:
        staging.mkdir()
        (staging / "sweep.json").write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        (staging / "sweep.html").write_text(render_sweep(meta), encoding="utf-8")
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _run_points(grid: Grid, points: list[dict[str, Any]], results: list[dict[str, Any] | None], root: Path,
                sweep_id: str, *, workers: int | None, scheduler: str | None, kernel: str, verbose: bool,
                progress: bool, reuse: bool) -> str:
    """Submit every point to the cluster and gather the results in grid order; returns the engine's name."""
    with _client(workers, scheduler, verbose) as (client, engine):
        plugin = sweep_worker.WarmKernelPlugin(kernel, verbose=verbose, preload=study_modules(grid.study),
                                               reuse=reuse)
        client.register_plugin(plugin, name=sweep_worker.PLUGIN)
        futures = {
            client.submit(sweep_worker.run_point, grid.study, grid.parameters(point), str(root), kernel,
                          verbose, sweep_id, key=f"experiments-{sweep_id}-{i}", pure=False): i
            for i, point in enumerate(points)
        }
        with bar(len(points), f"sweep {grid.study}", enabled=progress) as pbar:
            for future in as_completed(futures):
                i = futures[future]
                try:
                    out = future.result()
                except Exception as exc:  # a worker died, or the task could not run at all
                    out = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
                results[i] = {"index": i, "point": points[i], **out}
                pbar.update(1)
                pbar.set_postfix_str(", ".join(f"{k}={v}" for k, v in points[i].items()), refresh=False)
        with contextlib.suppress(Exception):
            client.unregister_worker_plugin(sweep_worker.PLUGIN)
    return engine
