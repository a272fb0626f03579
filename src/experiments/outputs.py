"""Every file the package writes goes through here: checked before any work, written atomically.

The rule for every output of every command: the location is checked before the work starts (the parent
is an existing, writable folder; the target is not a folder), an existing file is replaced only with
``--overwrite``, and the file appears whole or not at all (a temporary file in the same folder, then
``os.replace``), so an interrupted command never leaves half a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from experiments.errors import ExperimentsError

__all__ = [
    "STDOUT",
    "OutputError",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_folder",
    "check_output",
]

#: The value of an output option that means standard output.
STDOUT = "-"


class OutputError(ExperimentsError):
    """An output location that cannot be written."""


def check_output(
    path: str | Path | None, *, option: str = "--out", overwrite: bool = False, allow_stdout: bool = False
) -> Path | None:
    """Check an output location before any work starts.

    Parameters
    ----------
    path
        The location given by the user; ``None`` means no output was asked for.
    option
        The option's name, for the message (e.g. ``--json``).
    overwrite
        Whether an existing file may be replaced.
    allow_stdout
        Whether ``-`` (standard output) is accepted.

    Returns
    -------
    Path or None
        The checked path; ``None`` for no output or for standard output.

    Raises
    ------
    OutputError
        One line naming the option, the location and what is wrong.
    """
    if path is None:
        return None
    text = str(path)
    if allow_stdout and text == STDOUT:
        return None
    if not text.strip():
        raise OutputError(f"{option}: got an empty path; give a file path"
                          + (" or - for standard output" if allow_stdout else ""))
    target = Path(text)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"{option} {text!r}: folder {str(parent)!r} does not exist; create it first")
    if not parent.is_dir():
        raise OutputError(f"{option} {text!r}: {str(parent)!r} is not a folder")
    if target.is_dir():
        raise OutputError(f"{option} {text!r}: is a folder; give a file path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {text!r}: folder {str(parent)!r} is not writable")
    if target.exists():
        if not overwrite:
            raise OutputError(f"{option} {text!r}: file exists; pass --overwrite to replace it")
        if not os.access(target, os.W_OK):
            raise OutputError(f"{option} {text!r}: file exists and is not writable")
    return target


def check_folder(path: str | Path, *, option: str) -> Path:
    """Check a folder that will hold outputs: it exists as a writable folder, or can be created.

    Raises
    ------
    OutputError
        The path is a file, lies under a file, or cannot be written.
    """
    text = str(path)
    if not text.strip():
        raise OutputError(f"{option}: got an empty path; give a folder")
    folder = Path(text)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"{option} {text!r}: {str(probe)!r} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {text!r}: folder {str(probe)!r} is not writable")
    return folder


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path beside ``target`` that replaces it when the block succeeds.

    On any exception (including Ctrl-C) the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    try:
        yield Path(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(target: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically; returns the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically; returns the path."""
    return atomic_write_bytes(target, text.encode("utf-8"))
