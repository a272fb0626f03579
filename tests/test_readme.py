"""Every command the README shows runs: each line of its ```bash blocks that starts with
``.venv/bin/experiments``, ``experiments`` or ``papermill`` (joined over ``\\`` continuations), and every
example in a command's ``--help`` epilog, exits 0 without a traceback.

How a command is run (the same rules for lines added later, so a new example is picked up by itself):
- ``.venv/bin/experiments`` / ``experiments`` / ``papermill`` become this environment's executables; the
  working directory is a temporary folder, so relative outputs (``--html report.html``, ``--out
  data/...``) land there, and ``EXPERIMENTS_REPORTS_DIR`` points the reports there too.
- A path that exists in the repository (``data/real/...``, ``notebooks/...``, ``tests/fixtures/...``) is
  made absolute, also where it is quoted inside a word (``read_csv('data/real/...')`` in a ``--query``).
  A placeholder file name (``data.csv``, ``orders.parquet``, ...) is mapped by its name to
  a small file built here (:data:`FIXTURES`); a name with no builder fails the test, naming it.
- ``--scheduler tcp://10.0.0.5:8786`` (a private address the README uses as an example) is replaced by a
  real ``dask scheduler`` with one ``dask worker`` started on 127.0.0.1 for this module; no other address
  is ever contacted.
- Sizes: the README's own values run as written, except those in :data:`SMALLER` (each says why).

The commands run three at a time (59 s measured on two shared cores, longer when they are busy; the
500,000-customer run and the sweeps are the longest). :func:`test_readme_examples_are_found` checks that
the examples are found (18 in the README when this was written, 6 of them on the fixtures).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.dask_local import dask_cluster

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
PREFIXES = (".venv/bin/experiments", "experiments", "papermill")
#: The example address of a remote scheduler in the README; replaced by the local one, never contacted.
README_SCHEDULER = "tcp://10.0.0.5:8786"
#: Values the README gives that are too slow for a test, and the smaller ones used instead (an
#: option's value: ``(option, README value) -> test value``; a ``-p`` value: ``("-p NAME", value)``).
SMALLER: dict[tuple[str, str], str] = {
    # 10 million customers streamed to parquet: far the longest command, and a 10-million-row file
    ("--n-customers", "10000000"): "20000",
    # 12 points of 100,000 customers took 26 s alone on two cores: the longest lane of the test
    ("-p n_customers", "100000"): "20000",
}
#: A sweep at the study's default size (200,000 customers) on one worker is slow: a sweep line without
#: ``-p n_customers`` runs with this size (the README's scheduler example).
SWEEP_SIZE = "20000"


# ---------------------------------------------------------------------------------------------- fixtures
def _hillstrom(target: Path) -> None:
    """``data.csv``: the first 6,000 customers of the shipped Hillstrom file (same columns)."""
    hillstrom = pl.read_csv(ROOT / "data/real/hillstrom/hillstrom.csv.gz", infer_schema_length=None)
    hillstrom.head(6000).write_csv(target)


def _orders_by_arm(target: Path) -> None:
    """``orders.parquet``: a row per customer: ``arm`` (holdout, campaign), ``orders``, ``revenue``."""
    rng = np.random.default_rng(1)
    n = 4000
    arm = np.where(rng.random(n) < 0.5, "holdout", "campaign")
    orders = rng.poisson(np.where(arm == "campaign", 1.2, 1.0))
    revenue = np.round(orders * rng.gamma(2.0, 25.0, n), 2)
    pl.DataFrame({"customer_id": np.arange(n), "arm": arm, "orders": orders, "revenue": revenue,
                  "converted": (orders > 0).astype(np.int8)}).write_parquet(target)


def _touches(target: Path) -> None:
    """``touches.parquet``: touchpoints (journey_id, time in days, channel, converted, value)."""
    rng = np.random.default_rng(2)
    channels = np.array(["display", "email", "search", "social", "direct"])
    journeys = 600
    length = rng.integers(1, 6, journeys)
    jid = np.repeat(np.arange(journeys), length)
    converted = np.repeat((rng.random(journeys) < 0.3).astype(np.int8), length)
    value = np.repeat(np.round(rng.gamma(2.0, 30.0, journeys), 2), length) * converted
    pl.DataFrame({"journey_id": jid, "time": np.round(rng.random(len(jid)) * 30, 3),
                  "channel": channels[rng.integers(0, len(channels), len(jid))],
                  "converted": converted, "value": value}).write_parquet(target)


def _paths(target: Path) -> None:
    """``paths.csv``: aggregated paths (path, total_conversions, total_null, total_conversion_value)."""
    rng = np.random.default_rng(3)
    channels = ["display", "email", "search", "social"]
    paths = sorted({" > ".join(rng.choice(channels, rng.integers(1, 4))) for _ in range(200)})
    conv = rng.integers(0, 40, len(paths))
    pl.DataFrame({"path": paths, "total_conversions": conv, "total_null": rng.integers(10, 400, len(paths)),
                  "total_conversion_value": np.round(conv * 42.5, 2)}).write_csv(target)


def _scored(target: Path) -> None:
    """``scored.parquet``: arm (treated, holdout), a 0/1 ``converted`` and an uplift ``score``."""
    rng = np.random.default_rng(4)
    n = 5000
    score = rng.normal(size=n)
    treated = rng.random(n) < 0.5
    p = 0.05 + 0.03 * treated * (score > 0)
    pl.DataFrame({"arm": np.where(treated, "treated", "holdout"),
                  "converted": (rng.random(n) < p).astype(np.int8), "score": score}).write_parquet(target)


def _transactions(target: Path) -> None:
    """``orders.csv``: the shipped CDNOW sample (tests/fixtures) with the README's column names."""
    pl.read_csv(ROOT / "tests/fixtures/cdnow_sample.csv").rename({"customer_id": "id"}).write_csv(target)


#: Placeholder file name in the README -> what builds it (in the command's working folder).
FIXTURES: dict[str, Callable[[Path], None]] = {
    "data.csv": _hillstrom,
    "orders.parquet": _orders_by_arm,
    "touches.parquet": _touches,
    "paths.csv": _paths,
    "scored.parquet": _scored,
    "orders.csv": _transactions,
}
_FILE = re.compile(r"^[\w.-]+\.(?:csv|csv\.gz|parquet|tsv|json)$")


# ---------------------------------------------------------------------------------------------- examples
@dataclass(frozen=True)
class Example:
    """One command of the README (or of a ``--help`` epilog): where it is and its words."""

    where: str
    argv: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.where}:{' '.join(self.argv[:3])}"


def _commands(lines: list[str], where: str, first: int = 1) -> Iterator[Example]:
    """The commands among ``lines`` (joined over trailing backslashes) that start with :data:`PREFIXES`."""
    i = 0
    while i < len(lines):
        start, text = i, lines[i].strip()
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        if text.split(" ", 1)[0] in PREFIXES:
            yield Example(f"{where}:{start + first}", tuple(shlex.split(text, comments=True)))


def readme_examples() -> list[Example]:
    """Every command of README.md's ```bash blocks (the two setup commands start with python3: left out)."""
    lines, out, block = README.read_text(encoding="utf-8").splitlines(), [], None
    for n, line in enumerate(lines):
        if block is None and line.strip().startswith("```bash"):
            block = []
        elif block is not None and line.strip().startswith("```"):
            out += _commands(block, "README.md", first=n - len(block) + 1)
            block = None
        elif block is not None:
            block.append(line)
    return out


def help_examples() -> list[Example]:
    """Every command in the ``--help`` epilog of each sub-command."""
    from experiments.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    out: list[Example] = []
    for name, p in sub.choices.items():
        lines = [re.sub(r"^\s*\$\s*", "", line) for line in (p.epilog or "").splitlines()]
        out += _commands(lines, f"experiments {name} --help")
    return out


EXAMPLES = readme_examples() + help_examples()


#: A repository path quoted inside a word (``read_csv('data/real/...')`` in a ``--query``).
_QUOTED_PATH = re.compile(r"(?<=')(?:data|tests|notebooks)/[^']+(?=')")


def _prepare(example: Example, cwd: Path, scheduler: str) -> list[str]:
    """The command as it runs here (see the module's docstring)."""
    argv = list(example.argv)
    head = argv.pop(0)
    exe = BIN / ("papermill" if head == "papermill" else "experiments")
    out = [str(exe)]
    for i, word in enumerate(argv):
        prev = argv[i - 1] if i else ""
        key = (f"{argv[i - 2]} {prev}" if i >= 2 and argv[i - 2] == "-p" else prev, word)
        if key in SMALLER:
            word = SMALLER[key]
        elif prev == "--scheduler":  # only the README's example address, and only ever replaced
            assert word == README_SCHEDULER, f"{example.where}: map the scheduler {word!r} in the test"
            assert scheduler.startswith("tcp://127.0.0.1:")
            word = scheduler
        elif word in FIXTURES:
            FIXTURES[word](cwd / word)
        elif _FILE.match(word) and not (ROOT / word).exists() and not prev.startswith("-"):
            # an input (a positional file, or a -p value): outputs follow an option (--json, --html, --out)
            raise AssertionError(f"{example.where}: no fixture for the README's file {word!r}: add a builder "
                                 f"to FIXTURES in tests/test_readme.py")
        elif "/" in word and not word.startswith("-") and (ROOT / word).exists():
            word = str(ROOT / word)
        elif _QUOTED_PATH.search(word):  # a repository file named inside a --query's SQL string
            word = _QUOTED_PATH.sub(lambda m: str(ROOT / m[0]) if (ROOT / m[0]).exists() else m[0], word)
        out.append(word)
    if head != "papermill" and argv[0] == "sweep" and "n_customers" not in argv:
        out += ["-p", "n_customers", SWEEP_SIZE]
    return out


@dataclass
class Outcome:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every example run, three at a time, each in its own folder, the scheduler ones on a local cluster."""
    base = tmp_path_factory.mktemp("readme")
    reports = base / "reports"
    env = {**os.environ, "CI": "true", "EXPERIMENTS_REPORTS_DIR": str(reports)}

    def one(i: int, example: Example, scheduler: str) -> tuple[str, Outcome]:
        cwd = base / f"ex{i}"
        (cwd / "data").mkdir(parents=True)
        argv = _prepare(example, cwd, scheduler)
        start = time.monotonic()
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        return example.id, Outcome(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - start)

    with dask_cluster(workers=1) as scheduler, ThreadPoolExecutor(3) as pool:
        # longest first, so the three lanes finish together
        order = sorted(range(len(EXAMPLES)), key=lambda i: ("sweep" not in EXAMPLES[i].argv,
                                                            "run" not in EXAMPLES[i].argv))
        return dict(pool.map(lambda i: one(i, EXAMPLES[i], scheduler), order))


def test_readme_examples_are_found() -> None:
    readme = [e for e in EXAMPLES if e.where.startswith("README")]
    assert len(readme) >= 15, [e.id for e in readme]
    words = {w for e in readme for w in e.argv}
    assert {"run", "sweep", "runs", "simulate", "analyze", "uplift", "uplift-eval", "attribute", "power",
            "clv"} <= words
    assert not any(e.argv[0] == "python3" for e in EXAMPLES)  # the setup lines stay out


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_runs(example: Example, outcomes: dict[str, Outcome]) -> None:
    got = outcomes[example.id]
    print(f"{example.id}: exit {got.returncode} in {got.seconds:.1f} s")  # seen with -s
    shown = f"{' '.join(got.argv)}\nexit {got.returncode} after {got.seconds:.1f} s\n{got.stderr[-3000:]}"
    assert got.returncode == 0, shown
    assert "Traceback" not in got.stderr and "Traceback" not in got.stdout, shown


def test_examples_are_read_over_continuations_and_comments() -> None:
    lines = ["# a comment", ".venv/bin/experiments power --baseline 0.05 \\", "    --mde 0.1  # per arm",
             "python3 -m venv .venv", "experiments studies", "papermill a.ipynb b.ipynb -p seed 3", "echo x"]
    got = list(_commands(lines, "X", first=10))
    assert [e.where for e in got] == ["X:11", "X:14", "X:15"]
    assert got[0].argv == (".venv/bin/experiments", "power", "--baseline", "0.05", "--mde", "0.1")
    assert got[2].argv[0] == "papermill"
