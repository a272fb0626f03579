"""Command-line entry point: ``experiments COMMAND``; :data:`COMMANDS` lists them.

Each sub-command lives in :mod:`experiments.commands.<name>` and exposes ``register(subparsers)``,
which adds its parser and sets ``func``; each command module imports what it uses at its top.
``experiments --help`` lists the commands from :data:`experiments.commands.COMMANDS` (name and one-line
help) without importing any; when the command line names a sub-command, only that module is imported.

Every failure the user can act on ends in one line on stderr and exit status 2, never a traceback: a
usage error, any :class:`~experiments.errors.ExperimentsError`, a file the system refuses to read or
write, or memory running out. The line is made printable first (control characters, line breaks and
invisible characters from a file are written as escapes, an over-long line is cut in the middle), and so
is what a command prints on standard output (a label from a file cannot drive the terminal). A value
that reads as a negative number (``-5``, ``-.5``, ``-1e5``, ``-inf``, ``-nan``) is taken as a value, not
an option, so it reaches validation, which names the parameter, the value and what is allowed. Library
warnings stay off stderr unless Python was asked for them (``-W`` or ``PYTHONWARNINGS``).
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import logging
import os
import re
import signal
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from experiments import __version__
from experiments.commands import COMMANDS, module_name
from experiments.errors import ExperimentsError, one_line, printable

__all__ = ["COMMANDS", "build_parser", "main"]



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


def build_parser(commands: Iterable[str] = tuple(COMMANDS)) -> argparse.ArgumentParser:
    """The top-level parser: the sub-commands named in ``commands`` with their options (each one's module
    imported), every other one listed by its one-line help."""
    parser = _Parser(
        prog="experiments",
        description="Simulate remarketing and loyalty experiments, test their uplift and render "
        "offline HTML reports; analyse real experiment files and transaction logs.",
    )
    parser.add_argument("--version", action="version", version=f"experiments {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    chosen = set(commands)
    for name, line in COMMANDS.items():
        if name in chosen:
            # the one import inside a function: only the command asked for is loaded (start-up time)
            importlib.import_module(module_name(name)).register(sub)
        else:
            sub.add_parser(name, help=line)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    console = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    named = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser([named] if named in COMMANDS else [])
    args = parser.parse_args(argv)
    stdout = sys.stdout
    sys.stdout = _PrintableOut(stdout)  # type: ignore[assignment]
    try:
        with warnings.catch_warnings():
            if not sys.warnoptions:
                warnings.simplefilter("ignore")
                # libraries add their own filters when imported (statsmodels: "always" for its
                # ConvergenceWarning), so the warnings are dropped where they would be shown
                warnings.showwarning = _drop_warning
            code = int(args.func(args) or 0)
    except ExperimentsError as exc:
        code = _fail(args.command, str(exc))
    except KeyboardInterrupt:
        print(f"experiments {args.command}: interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly, as a killed writer would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141
    except OSError as exc:  # a file the system refuses: one line, as for any bad input
        code = _fail(args.command, _os_error(exc))
    except MemoryError:
        code = _fail(args.command, "not enough memory for this input on this machine; give less data or "
                     "smaller sizes")
    finally:
        sys.stdout = stdout
    if console:  # the command is over: a late Ctrl-C must not turn a finished exit into a traceback
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process once the command is done, without tearing the interpreter down.

    ``atexit`` handlers run and the standard streams and logging are flushed; what is skipped is freeing
    the module graph (nbconvert, papermill, ZMQ, ...) object by object, which costs a run 0.1 to 0.3 s
    of nothing. Only for the console entry point: :func:`main` called from Python returns as usual.
    """
    try:
        atexit._run_exitfuncs()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # a closed pipe, a second Ctrl-C: exit with the command's status all the same
        pass
    os._exit(code)


class _PrintableOut:
    """Standard output that writes invisible characters as visible escapes: a label or column name from
    a file cannot send terminal escape sequences (colours, titles, clipboard writes) to the user's
    terminal. Line breaks and tabs pass; JSON is unchanged (it escapes control characters itself)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text, keep="\n\t"))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


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
