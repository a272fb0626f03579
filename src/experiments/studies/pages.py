"""What a command's one-page report says, as data: a title and blocks in order; the renderer draws it.

A command (``analyze``, ``attribute``) builds a :class:`Page` from its result's words, tables and charts
and asks :func:`experiments.render.page.page_html` for the HTML; nothing here writes HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from experiments.studies.base import Verdict

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Block", "Heading", "Notes", "Page", "Section", "Table"]


@dataclass(frozen=True)
class Heading:
    """The page's title line."""

    text: str


@dataclass(frozen=True)
class Section:
    """A section's heading."""

    text: str


@dataclass(frozen=True)
class Table:
    """A small table; ``formats`` maps a column to a :func:`experiments.formatting.fmt` kind."""

    frame: pl.DataFrame
    caption: str | None = None
    formats: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Notes:
    """A titled list of sentences (assumptions, checks, caveats)."""

    lines: tuple[str, ...]
    title: str = "Assumptions"

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.lines))


#: A block: a heading, a section heading, the verdict, a table, notes, or an altair chart.
Block = Heading | Section | Verdict | Table | Notes | Any


@dataclass(frozen=True)
class Page:
    """A one-page report: its title and its blocks, in order."""

    title: str
    blocks: Sequence[Block]
