"""Command-line entry point: ``experiments run | studies | simulate | analyze | power | clv | ...``.

Each sub-command lives in :mod:`experiments.commands.<name>` and exposes ``register(subparsers)``,
which adds its parser and sets ``func``; command modules import only the standard library at
import time, so building the parser (and ``--help``) stays fast.

Every failure the user can act on ends in one line on stderr and exit status 2, never a traceback: a
usage error, any :class:`~experiments.errors.ExperimentsError`, a file the system refuses to read or
write, or memory running out. The line is made printable first (control characters, line breaks and
invisible characters from a file are written as escapes, an over-long line is cut in the middle). A value
that reads as a negative number (``-5``, ``-.5``, ``-1e5``, ``-inf``, ``-nan``) is taken as a value, not
an option, so it reaches validation, which names the parameter, the value and what is allowed. Library
warnings stay off stderr unless Python was asked for them (``-W`` or ``PYTHONWARNINGS``).
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from experiments import __version__
from experiments.errors import ExperimentsError, one_line

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: tuple[str, ...] = ("run", "studies", "simulate", "analyze", "power", "clv", "uplift", "uplift-eval",
                             "attribute")


#: What reads as a negative number, so a value and not an option: argparse's own rule knows only
#: ``-5`` and ``-.5``.
NEGATIVE_NUMBER = re.compile(
    r"^-(?:(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$", re.IGNORECASE)


def _path(text: str) -> Path:
    """A path option's value; an empty one is refused (``Path("")`` would silently mean ``.``)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("got an empty path; give a path")
    return Path(text)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one printable line with exit status 2, reads ``-inf`` and
    ``-1e5`` as values, and refuses empty paths."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER
        self.register("type", Path, _path)

    def error(self, message: str) -> NoReturn:
        self.exit(2, one_line(f"{self.prog}: error: {message}") + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available sub-command."""
    parser = _Parser(
        prog="experiments",
        description="Simulate remarketing and loyalty experiments, test their uplift and render "
        "offline HTML reports; analyse real experiment files and transaction logs.",
    )
    parser.add_argument("--version", action="version", version=f"experiments {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"experiments.commands.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            if not sys.warnoptions:
                warnings.simplefilter("ignore")
                # libraries add their own filters when imported (statsmodels: "always" for its
                # ConvergenceWarning), so the warnings are dropped where they would be shown
                warnings.showwarning = _drop_warning
            return int(args.func(args) or 0)
    except ExperimentsError as exc:
        return _fail(args.command, str(exc))
    except OSError as exc:  # a file the system refuses: one line, as for any bad input
        return _fail(args.command, _os_error(exc))
    except MemoryError:
        return _fail(args.command, "not enough memory for this input on this machine; give less data "
                     "or smaller sizes")
    except KeyboardInterrupt:
        print(f"experiments {args.command}: interrupted", file=sys.stderr)
        return 130


def _drop_warning(*args: Any, **kwargs: Any) -> None:
    """A :func:`warnings.showwarning` that shows nothing."""


def _fail(command: str, message: str) -> int:
    print(one_line(f"experiments {command}: error: {message}"), file=sys.stderr)
    return 2


def _os_error(exc: OSError) -> str:
    """``strerror: 'file'`` of an :class:`OSError` (its text when it has no error number)."""
    if exc.strerror is None:
        return str(exc) or type(exc).__name__
    names = [repr(str(f)) for f in (exc.filename, exc.filename2) if f is not None]
    return exc.strerror + (": " + " -> ".join(names) if names else "")


if __name__ == "__main__":
    sys.exit(main())
