"""The one registry of studies: the runner, ``run --all``, ``simulate``, ``studies``, sweeps and the index.

Adding a study is one line here: its module name. The module defines ``STUDY`` (a
:class:`~experiments.studies.base.Study`). Modules are imported only when a study is asked for, so
listing names costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from experiments.errors import ParameterError

if TYPE_CHECKING:
    from experiments.studies.base import Study

__all__ = ["STUDY_MODULES", "all_studies", "defaults", "get", "names"]

#: Study name → module defining ``STUDY``, in the order ``run --all`` renders them.
STUDY_MODULES: dict[str, str] = {
    "remarketing": "experiments.studies.remarketing",
    "loyalty": "experiments.studies.loyalty",
    "real_experiment": "experiments.studies.real_experiment",
    "calibration": "experiments.studies.calibration",
    "omnichannel": "experiments.studies.omnichannel",
    "targeting": "experiments.studies.targeting",
    "lifecycle": "experiments.studies.lifecycle",
}


def names() -> list[str]:
    """Names of every study, in run order."""
    return list(STUDY_MODULES)


def get(name: str) -> Study:
    """The study called ``name``.

    Raises
    ------
    ParameterError
        ``name`` is not a study (the message lists the studies).
    """
    if name not in STUDY_MODULES:
        raise ParameterError("study", name, "one of " + ", ".join(STUDY_MODULES))
    return importlib.import_module(STUDY_MODULES[name]).STUDY


def all_studies() -> list[Study]:
    """Every study, in run order."""
    return [get(n) for n in STUDY_MODULES]


def defaults(name: str) -> dict[str, Any]:
    """``{parameter: default}`` of the study called ``name``, from its scenario's declaration.

    The declaration is the study's ``scenario`` module (``experiments.studies.<name>.scenario``), never the
    notebook, whose ``parameters`` cell is the same declaration written out (``tests/test_notebooks.py``
    holds them equal).

    Raises
    ------
    ParameterError
        ``name`` is not a study (the message lists the studies).
    """
    if name not in STUDY_MODULES:
        raise ParameterError("study", name, "one of " + ", ".join(STUDY_MODULES))
    return dict(importlib.import_module(f"experiments.studies.{name}.scenario").DEFAULTS)
