"""The study contract: what a study is, and what its run gives back.

A :class:`Study` names a question, a notebook and a scenario class, and turns a validated scenario into
a result. Every result follows :class:`StudyResult`: a :class:`Verdict` (headline, tone, details), the
headline :class:`Figure` s (estimate, interval and, for simulated studies, the truth), tables, charts,
assumptions and data checks. The notebook shows them; the runner, the index and sweeps read the
:func:`record` that the notebook's verdict cell leaves in the executed notebook.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from experiments.errors import ParameterError

if TYPE_CHECKING:
    import polars as pl

    from experiments.scenarios.base import Scenario

__all__ = [
    "RECORD_MIME",
    "Figure",
    "Study",
    "StudyResult",
    "SweepFigure",
    "Tone",
    "Verdict",
    "first_sentence",
    "record",
]

Tone = Literal["good", "bad", "neutral"]
#: Mimetype of the run record a notebook's verdict cell displays (read back from the executed notebook).
RECORD_MIME = "application/vnd.experiments.record+json"


def first_sentence(text: str) -> str:
    """The first sentence of ``text``: up to the first full stop that ends the text or precedes a space."""
    for i, ch in enumerate(text):
        if ch == "." and (i + 1 == len(text) or text[i + 1] == " ") and text[max(0, i - 4):i] != " e.g":
            return text[: i + 1]
    return text


@dataclass(frozen=True)
class Verdict:
    """What a report says first: one plain sentence, its tone, and short supporting sentences."""

    headline: str
    tone: Tone = "neutral"
    details: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.tone not in ("good", "bad", "neutral"):
            raise ValueError(f"tone must be good, bad or neutral, got {self.tone!r}")
        object.__setattr__(self, "details", tuple(self.details))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"headline": self.headline, "tone": self.tone, "details": list(self.details)}


@dataclass(frozen=True)
class Figure:
    """One headline number of a study: estimate, interval, truth (when simulated) and unit.

    ``name`` is stable across runs (sweeps and comparisons line figures up by ``(name, group)``);
    ``group`` tells apart figures of the same name, e.g. one per treatment arm.
    """

    name: str
    label: str
    estimate: float
    ci_low: float | None = None
    ci_high: float | None = None
    truth: float | None = None
    unit: str = ""
    group: str = ""

    @property
    def covered(self) -> bool | None:
        """Whether the interval holds the truth (None without an interval or a truth)."""
        if self.truth is None or self.ci_low is None or self.ci_high is None:
            return None
        return bool(self.ci_low <= self.truth <= self.ci_high)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict; numbers to 12 significant digits, non-finite numbers as None.

        Multithreaded sums may add the same rows in a different order from run to run, which moves the
        15th digit; 12 digits make the record of two runs with the same parameters and seed identical.
        """
        return {k: _plain(v) for k, v in asdict(self).items()}


def _plain(v: Any) -> Any:
    if isinstance(v, float):
        return float(f"{v:.12g}") if math.isfinite(v) else None
    return v


@runtime_checkable
class StudyResult(Protocol):
    """What every study's run returns."""

    def verdict(self) -> Verdict:
        """The verdict the report opens with."""
        ...

    def figures(self) -> tuple[Figure, ...]:
        """Headline numbers, each with its interval (and the truth where simulated)."""
        ...

    def tables(self) -> Mapping[str, pl.DataFrame]:
        """Named tables the report shows."""
        ...

    def charts(self) -> Mapping[str, Any]:
        """Named altair charts the report shows (titles state the finding)."""
        ...

    def assumptions(self) -> list[str]:
        """What the numbers rest on, in plain words."""
        ...

    def data_checks(self) -> list[str]:
        """What was checked in the data, in plain words."""
        ...


def record(study: str, result: StudyResult, scenario: Scenario | None = None) -> dict[str, Any]:
    """The run record: study, verdict, figures and (normalised) parameters, JSON-ready."""
    verdict = result.verdict()
    out: dict[str, Any] = {
        "study": study,
        "headline": verdict.headline,
        "tone": verdict.tone,
        "details": list(verdict.details),
        "figures": [f.to_dict() for f in result.figures()],
    }
    if scenario is not None:
        out["parameters"] = scenario.to_params()
        out["changed"] = scenario.changed()
    return out


@dataclass(frozen=True)
class SweepFigure:
    """The one headline figure a sweep ranks its points by: one a user can act on.

    A sweep's "best point" must be a setting someone can deploy, so the figure is the one of the policy or
    plan that can be carried out (targeting: the uplift model's policy, never the oracle's, which needs
    every customer's true effect).

    Attributes
    ----------
    name
        The figure's ``name``; ``{parameter}`` fields are filled from the point's parameters (e.g.
        ``effect_{decision_metric}``).
    group
        The figure's ``group`` (``""`` for a figure without groups), or None where every group is an option
        one can deploy (remarketing's arms: the best arm's figure counts).
    label
        What is ranked, in words, for the sweep's first line and page (e.g. "the uplift policy's
        incremental profit per 1,000 customers").
    """

    name: str
    group: str | None
    label: str

    def name_at(self, parameters: Mapping[str, Any]) -> str:
        """The figure's name at a point with these parameters."""
        try:
            return self.name.format_map(dict(parameters)) if "{" in self.name else self.name
        except (KeyError, ValueError, IndexError):
            return self.name

    def matches(self, figure: Mapping[str, Any], parameters: Mapping[str, Any] | None = None) -> bool:
        """Whether ``figure`` (a figure's ``to_dict()``) is the ranked one at a point with ``parameters``."""
        if figure.get("name") != self.name_at(parameters or {}):
            return False
        return self.group is None or (figure.get("group") or "") == self.group

    def words(self) -> str:
        """``label (name, group G)``: what a sweep's first line and page say it ranks by."""
        group = "best of its groups" if self.group is None else (f"group {self.group}" if self.group else "")
        return f"{self.label} ({self.name}{', ' + group if group else ''})"

    def to_dict(self) -> dict[str, Any]:
        """``{name, group, label}``, JSON-ready."""
        return {"name": self.name, "group": self.group, "label": self.label}


@dataclass(frozen=True)
class Study:
    """One study: a question, a notebook and a scenario class; the package ``experiments.studies.<name>``
    answers the question with the same files in every study (``scenario``, ``numbers``, ``words``,
    ``result``), and :meth:`run` and :meth:`simulate` call its ``result.run`` and ``numbers.simulate``.

    Declaring a study imports only its scenario: the runner reads the defaults and the question in a
    process that computes nothing, and the numerical stack loads where the study runs.

    Attributes
    ----------
    name
        Short name (the notebook is ``notebooks/<name>.ipynb``).
    question
        The question the study answers, in one sentence.
    scenario
        The scenario class (its ``parameters`` are the notebook's parameters).
    simulated
        Whether the study's data are simulated (its ``numbers.simulate`` serves ``experiments simulate``).
    sweep_figure
        The one figure a sweep ranks its points by (:class:`SweepFigure`: name, group and words); one a
        user can act on, never a benchmark such as the oracle's.
    """

    name: str
    question: str
    scenario: type[Scenario]
    simulated: bool = False
    sweep_figure: SweepFigure | None = None

    def _part(self, part: str) -> ModuleType:
        # by name, so that a study's declaration imports its scenario only (see the class docstring)
        return importlib.import_module(f"experiments.studies.{self.name}.{part}")

    def run(self, scenario: Any) -> StudyResult:
        """The study's result at ``scenario`` (its package's ``result.run``)."""
        return self._part("result").run(scenario)

    def simulate(self, scenario: Any, **options: Any) -> Any:
        """The study's simulated data at ``scenario`` (its package's ``numbers.simulate``; ``options``
        such as ``block_size`` and ``workers`` pass through).

        Raises
        ------
        ParameterError
            The study analyses real data and simulates nothing.
        """
        if not self.simulated:
            raise ParameterError("study", self.name, "a study whose data are simulated")
        return self._part("numbers").simulate(scenario, **options)

    @property
    def notebook(self) -> str:
        """Path of the notebook, relative to the project root."""
        return f"notebooks/{self.name}.ipynb"

    def parameters(self) -> list[dict[str, Any]]:
        """``[{name, default, allowed, help, ...}]`` of every parameter, in the notebook's order."""
        return [p.to_dict() for p in self.scenario.parameters]

    def to_dict(self) -> dict[str, Any]:
        """``{name, question, notebook, parameters, sweep_figure}``: the JSON of ``experiments studies``."""
        return {"name": self.name, "question": self.question, "notebook": self.notebook,
                "simulated": self.simulated, "parameters": self.parameters(),
                "sweep_figure": self.sweep_figure.to_dict() if self.sweep_figure else None}

    def parameters_cell(self) -> str:
        """The source of the notebook's ``parameters`` cell, one ``name: type = default  # help`` a line."""
        return "\n".join(p.cell_line() for p in self.scenario.parameters)
