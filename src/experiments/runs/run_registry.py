"""The run registry: one SQLite file, ``<reports_dir>/runs.sqlite``, listing every run and sweep.

The index page and ``experiments runs`` read it; ``experiments run`` and every sweep worker write one row
per finished run. Each run folder keeps its own ``run.json``: the registry is rebuilt from those
folders when it is missing, and :meth:`RunRegistry.sync` adopts folders it does not know (copied in,
or renamed into place by a run killed just before its insert) and prunes rows whose folder was deleted.

Why SQLite: it is in the standard library (no new dependency); its transactions are atomic and
durable, with file locks, so several ``experiments run`` processes and sweep workers can write the same
file at once without corrupting it, and a process killed in the middle of a write leaves a journal that
the next connection rolls back (no half entry, ever). Rows are small and few (one per run), queries are
by study or sweep, and the file is readable from any language. DuckDB would add a dependency and lets
only one process open a file for writing at a time; a parquet file has no transactions and would have
to be rewritten whole, under a lock of our own, for each run. SQLite's locks need a local file system
(or one with working POSIX locks): a sweep on a cluster shares ``--reports-dir`` on such a system.

A row is inserted only after its run folder is in place (renamed from its staging folder), in one
``BEGIN IMMEDIATE`` transaction; the whole ``run.json`` is stored beside the columns the queries use.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from experiments.errors import ExperimentsError

__all__ = ["REGISTRY_FILE", "SWEEPS_DIR", "RegistryError", "RunRegistry", "public_run"]

#: File name of the registry, inside the reports folder.
REGISTRY_FILE = "runs.sqlite"
#: Folder of a study's sweeps, beside its run folders: ``<study>/sweeps/<sweep-id>/``.
SWEEPS_DIR = "sweeps"
_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    study TEXT NOT NULL,
    run_id TEXT NOT NULL,
    started TEXT NOT NULL,
    sweep_id TEXT,
    html TEXT NOT NULL,
    meta TEXT NOT NULL,
    PRIMARY KEY (study, run_id)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
CREATE INDEX IF NOT EXISTS runs_sweep ON runs (sweep_id);
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id TEXT PRIMARY KEY,
    study TEXT NOT NULL,
    started TEXT NOT NULL,
    html TEXT NOT NULL,
    meta TEXT NOT NULL
);
"""


_INSERT_SWEEP = "INSERT OR REPLACE INTO sweeps (sweep_id, study, started, html, meta) VALUES (?,?,?,?,?)"


class RegistryError(ExperimentsError):
    """The registry file cannot be read or written."""


def public_run(meta: Mapping[str, Any], root: Path | None = None) -> dict[str, Any]:
    """The JSON contract of one run: ``{study, run_id, started, parameters, headline, html, sweep_id}``.

    ``headline`` is the run's verdict ``{headline, tone, details, figures}``; ``html`` is the report's
    path, under ``root`` when given (else relative to the reports folder).
    """
    html = str(meta.get("html", ""))
    return {
        "study": meta.get("study"),
        "run_id": meta.get("run_id"),
        "started": meta.get("started"),
        "parameters": meta.get("params") or {},
        "headline": meta.get("headline") or {},
        "html": str(root / html) if root is not None else html,
        "sweep_id": meta.get("sweep_id"),
    }


def _dumps(obj: object) -> str:
    return json.dumps(obj, default=str)  # keys in their order: parameters and swept axes as given


class RunRegistry:
    """The registry of the reports folder ``root`` (the file is created on first use).

    Parameters
    ----------
    root
        The reports folder.
    timeout
        Seconds a writer waits for another process's transaction to finish.
    """

    def __init__(self, root: str | Path, *, timeout: float = 60.0) -> None:
        self.root = Path(root)
        self.path = self.root / REGISTRY_FILE
        self.timeout = timeout

    # ------------------------------------------------------------------------------------------ plumbing
    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        new = not self.path.exists()
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise RegistryError(f"run registry {str(self.path)!r} cannot be opened: {exc}") from None
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            if new or con.execute("PRAGMA user_version").fetchone()[0] != _SCHEMA_VERSION:
                with self._write(con):
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            con.execute(statement)
                    con.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                if new:
                    self._adopt_all(con)
            yield con
        except sqlite3.DatabaseError as exc:
            raise RegistryError(f"run registry {str(self.path)!r}: {exc}") from None
        finally:
            con.close()

    @staticmethod
    @contextlib.contextmanager
    def _write(con: sqlite3.Connection) -> Iterator[None]:
        """One write transaction: taken up front (``BEGIN IMMEDIATE``), committed whole or rolled back."""
        con.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    # ------------------------------------------------------------------------------------------- writing
    def add_run(self, meta: Mapping[str, Any]) -> None:
        """Record a run whose folder ``<study>/<run_id>/`` is in place (``meta`` is its ``run.json``)."""
        with self._connect() as con, self._write(con):
            self._insert_run(con, meta)

    @staticmethod
    def _insert_run(con: sqlite3.Connection, meta: Mapping[str, Any]) -> None:
        study, run_id = str(meta["study"]), str(meta["run_id"])
        html = f"{study}/{run_id}/{study}.html"
        con.execute(
            "INSERT OR REPLACE INTO runs (study, run_id, started, sweep_id, html, meta) VALUES (?,?,?,?,?,?)",
            (study, run_id, str(meta.get("started", "")), meta.get("sweep_id"), html, _dumps(dict(meta))),
        )

    def add_sweep(self, meta: Mapping[str, Any]) -> None:
        """Record a sweep whose folder ``<study>/sweeps/<sweep_id>/`` is in place (``meta``: sweep.json)."""
        study, sweep_id = str(meta["study"]), str(meta["sweep_id"])
        html = f"{study}/{SWEEPS_DIR}/{sweep_id}/sweep.html"
        with self._connect() as con, self._write(con):
            con.execute(_INSERT_SWEEP,
                        (sweep_id, study, str(meta.get("started", "")), html, _dumps(dict(meta))))

    def sync(self) -> tuple[int, int]:
        """Adopt run and sweep folders the registry lacks, prune rows whose folder is gone.

        Returns
        -------
        (adopted, pruned)
        """
        if not self.root.is_dir():
            return 0, 0
        with self._connect() as con:
            return self._sync(con)

    def _run_folders(self) -> dict[tuple[str, str], Path]:
        found = {}
        for study_dir in _subdirs(self.root):
            for run_dir in _subdirs(study_dir):
                if run_dir.name != SWEEPS_DIR:
                    found[(study_dir.name, run_dir.name)] = run_dir
        return found

    def _sweep_folders(self) -> dict[str, Path]:
        found = {}
        for study_dir in _subdirs(self.root):
            for sweep_dir in _subdirs(study_dir / SWEEPS_DIR):
                found[sweep_dir.name] = sweep_dir
        return found

    def _sync(self, con: sqlite3.Connection) -> tuple[int, int]:
        folders, sweep_folders = self._run_folders(), self._sweep_folders()
        known = {(s, r): html for s, r, html in con.execute("SELECT study, run_id, html FROM runs")}
        known_sweeps = {s: html for s, html in con.execute("SELECT sweep_id, html FROM sweeps")}
        gone = [k for k, html in known.items() if not (self.root / html).is_file()]
        gone_sweeps = [s for s, html in known_sweeps.items() if not (self.root / html).is_file()]
        new = [_read_json(folders[k] / "run.json") for k in folders.keys() - known.keys()]
        new = [m for m in new if m is not None and _is_run(m)
               and (self.root / m["study"] / m["run_id"] / f"{m['study']}.html").is_file()]
        new_sweeps = [_read_json(sweep_folders[s] / "sweep.json")
                      for s in sweep_folders.keys() - known_sweeps.keys()]
        new_sweeps = [m for m in new_sweeps if m is not None and isinstance(m.get("sweep_id"), str)
                      and isinstance(m.get("study"), str)
                      and (self.root / m["study"] / SWEEPS_DIR / m["sweep_id"] / "sweep.html").is_file()]
        if not (gone or gone_sweeps or new or new_sweeps):
            return 0, 0
        with self._write(con):
            con.executemany("DELETE FROM runs WHERE study = ? AND run_id = ?", gone)
            con.executemany("DELETE FROM sweeps WHERE sweep_id = ?", [(s,) for s in gone_sweeps])
            for meta in new:
                self._insert_run(con, meta)
            for meta in new_sweeps:
                con.execute(_INSERT_SWEEP, (meta["sweep_id"], meta["study"], str(meta.get("started", "")),
                                            f"{meta['study']}/{SWEEPS_DIR}/{meta['sweep_id']}/sweep.html",
                                            _dumps(meta)))
        return len(new) + len(new_sweeps), len(gone) + len(gone_sweeps)

    def _adopt_all(self, con: sqlite3.Connection) -> None:
        """A new registry in a folder that already holds runs (made before the registry): adopt them."""
        self._sync(con)

    # ------------------------------------------------------------------------------------------- reading
    def runs(self, *, study: str | None = None, sweep_id: str | None = None) -> list[dict[str, Any]]:
        """``run.json`` of each run whose report exists, newest first, with ``html`` relative to the root.

        Nothing is created when the reports folder or the registry does not exist yet (an empty list).
        """
        if not self.root.is_dir():
            return []
        sql, args = "SELECT html, meta FROM runs", []
        where = []
        if study is not None:
            where.append("study = ?")
            args.append(study)
        if sweep_id is not None:
            where.append("sweep_id = ?")
            args.append(sweep_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started DESC, run_id DESC"
        with self._connect() as con:
            rows = con.execute(sql, args).fetchall()
        out = []
        for html, meta_text in rows:
            if not (self.root / html).is_file():
                continue  # deleted by hand since: skipped here, pruned by the next sync
            meta = json.loads(meta_text)
            meta["html"] = html
            out.append(meta)
        return out

    def sweeps(self, *, study: str | None = None) -> list[dict[str, Any]]:
        """``sweep.json`` of each sweep whose report exists, newest first, ``html`` relative to the root."""
        if not self.root.is_dir():
            return []
        sql, args = "SELECT html, meta FROM sweeps", []
        if study is not None:
            sql += " WHERE study = ?"
            args.append(study)
        sql += " ORDER BY started DESC, sweep_id DESC"
        with self._connect() as con:
            rows = con.execute(sql, args).fetchall()
        out = []
        for html, meta_text in rows:
            if (self.root / html).is_file():
                meta = json.loads(meta_text)
                meta["html"] = html
                out.append(meta)
        return out

    def integrity(self) -> str:
        """SQLite's own integrity check (``"ok"`` when the file is sound)."""
        with self._connect() as con:
            return str(con.execute("PRAGMA integrity_check").fetchone()[0])


def _subdirs(folder: Path) -> list[Path]:
    """Visible sub-folders (staging folders start with a dot and are never listed)."""
    try:
        with os.scandir(folder) as it:
            return [Path(e.path) for e in it
                    if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
    except OSError:
        return []


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def _is_run(meta: Mapping[str, Any]) -> bool:
    return isinstance(meta.get("study"), str) and isinstance(meta.get("run_id"), str)
