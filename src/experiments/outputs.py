"""Every file the package writes goes through here: checked before any work, written atomically.

The rule for every output of every command: the location is checked before the work starts (the parent
is an existing folder in which a file can really be created, tried with a throw-away file, so read-only
mounts and system folders are caught whoever runs the command; the target is not a folder, nor a device
or other special file, and its name is not too long), an existing file is replaced only with
``--overwrite``, ``-`` means standard output where an option allows it, and the file appears whole or
not at all (a temporary file in the same folder, then ``os.replace``), so an interrupted command never
leaves half a file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from experiments.errors import ExperimentsError, shown

__all__ = [
    "OUTPUT_RULE",
    "STDOUT",
    "OutputError",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_distinct",
    "check_folder",
    "check_output",
    "write_results",
]

#: The value of an output option that means standard output.
STDOUT = "-"
#: The rule, as every command's --help states it.
OUTPUT_RULE = ("Outputs: every location is checked before any work starts (its folder must exist and "
               "be writable); an existing file is replaced only with --overwrite; - means standard "
               "output where an option allows it; files appear whole or not at all.")


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
    if text == STDOUT:
        if allow_stdout:
            return None
        raise OutputError(f"{option}: cannot go to standard output (-); give a file path")
    if not text.strip():
        raise OutputError(f"{option}: got an empty path; give a file path"
                          + (" or - for standard output" if allow_stdout else ""))
    where = f"{option} {shown(text)}"
    if text.endswith(("/", os.sep)):
        raise OutputError(f"{where}: ends with a slash, so names a folder; give a file path")
    target = Path(text)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"{where}: folder {shown(str(parent))} does not exist; create it first")
    if not parent.is_dir():
        raise OutputError(f"{where}: {shown(str(parent))} is not a folder")
    _check_name(where, target, parent)
    if target.is_dir():
        raise OutputError(f"{where}: is a folder; give a file path")
    if target.exists() or target.is_symlink():
        mode = target.lstat().st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise OutputError(f"{where}: is not a regular file (a device, pipe or socket); give a file path")
        if not overwrite:
            raise OutputError(f"{where}: file exists; pass --overwrite to replace it")
        if not os.access(target, os.W_OK):
            raise OutputError(f"{where}: file exists and is not writable")
    _check_writable(where, parent)
    return target


def check_distinct(*outputs: tuple[str, Path | None]) -> None:
    """Refuse one file named by two output options (``(option, path)`` pairs; ``None`` for an option
    not given or going to standard output).

    Raises
    ------
    OutputError
        Two options name the same file.
    """
    seen: dict[Path, str] = {}
    for option, path in outputs:
        if path is None:
            continue
        key = path.resolve()
        if key in seen:
            raise OutputError(f"{seen[key]} and {option} name the same file {shown(str(path))}; give "
                              "each its own path")
        seen[key] = option


def _check_name(where: str, target: Path, parent: Path) -> None:
    """The file name, and the temporary name written beside it, fit the file system's limit."""
    try:
        limit = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if len(os.fsencode(target.name)) > limit:
        raise OutputError(f"{where}: file name longer than the {limit} bytes this file system allows")


def _check_writable(where: str, folder: Path) -> None:
    """``folder`` takes a new file: its permission bits allow it, and a throw-away file can really be
    created and removed there (the bits say nothing to root, nor about read-only or system file
    systems)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{where}: folder {shown(str(folder))} is not writable")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".experiments-check-")
    except OSError as exc:
        raise OutputError(f"{where}: folder {shown(str(folder))} is not writable: cannot create a file there "
                          f"({exc.strerror or exc})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


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
    where = f"{option} {shown(text)}"
    if not probe.is_dir():
        raise OutputError(f"{where}: {shown(str(probe))} is a file, not a folder")
    _check_writable(where, probe)
    return folder


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path beside ``target`` that replaces it when the block succeeds.

    On any exception (including Ctrl-C) the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    # the temporary name is the target's with a few characters more: keep it within the name limit
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:120]}.", suffix=".part")
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


def write_results(
    text: str,
    json_path: Path | None,
    *,
    json_option: str | None,
    page: str | None = None,
    html_path: Path | None = None,
) -> bool:
    """Write a command's JSON ``text`` and HTML ``page`` atomically; print the JSON for ``--json -``.

    Parameters
    ----------
    text
        The JSON result (written with a final newline).
    json_path, html_path
        Locations checked by :func:`check_output`; ``None`` when not asked for (or standard output).
    json_option
        The ``--json`` value as given: :data:`STDOUT` prints ``text``.
    page
        The HTML page, or ``None``.

    Returns
    -------
    bool
        Whether the JSON went to standard output (the command then prints nothing else).
    """
    if json_path is not None:
        atomic_write_text(json_path, text + "\n")
    if page is not None and html_path is not None:
        atomic_write_text(html_path, page)
    if json_option == STDOUT:
        print(text)
        return True
    return False
