"""The studies: one notebook each, and the typed scenario that validates its parameters."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from experiments.errors import ExperimentsError, ParameterError
from experiments.paths import NOTEBOOKS_DIR
from experiments.validation import reject_unknown

__all__ = ["STUDY_ORDER", "available_studies", "coerce_cli_value", "notebook_defaults", "validate_params"]

#: Preferred order of studies (``experiments run --all``); any other notebook follows alphabetically.
STUDY_ORDER: tuple[str, ...] = ("remarketing", "loyalty", "real_experiment", "calibration")
#: Study → ``module:Class`` of its scenario; the class has ``from_params(Mapping) -> scenario``.
SCENARIOS: dict[str, str] = {
    "remarketing": "experiments.scenarios.remarketing:RemarketingScenario",
    "loyalty": "experiments.scenarios.loyalty:LoyaltyScenario",
    "real_experiment": "experiments.scenarios.real_experiment:RealExperimentScenario",
    "calibration": "experiments.scenarios.calibration:CalibrationScenario",
}


def available_studies(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[str]:
    """Names of the studies that have a notebook, in run order."""
    found = {p.stem for p in notebooks_dir.glob("*.ipynb") if not p.stem.startswith(".")}
    return [s for s in STUDY_ORDER if s in found] + sorted(found - set(STUDY_ORDER))


def notebook_defaults(notebook: Path) -> dict[str, Any]:
    """Parameter defaults of a notebook's ``parameters`` cell, as Python values."""
    import papermill as pm

    params = pm.inspect_notebook(str(notebook))
    out: dict[str, Any] = {}
    for name, info in params.items():
        try:
            out[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            out[name] = info["default"]
    return out


def coerce_cli_value(text: str) -> Any:
    """Read a ``-p NAME VALUE`` value the way papermill does: int, float, bool, None, else the text."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    return text


def validate_params(study: str, notebook: Path, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Check overrides against the notebook's parameters and the study's scenario.

    Returns the full parameter set (defaults updated by overrides). Raises
    :class:`~experiments.errors.ParameterError` with one line on the first bad value.
    """
    defaults = notebook_defaults(notebook)
    reject_unknown(overrides, defaults)
    params = {**defaults, **overrides}
    target = SCENARIOS.get(study)
    if target:
        module_name, cls_name = target.split(":")
        try:
            scenario_cls = getattr(importlib.import_module(module_name), cls_name)
        except (ImportError, AttributeError) as exc:
            raise ExperimentsError(
                f"study {study!r}: its scenario {target} cannot be loaded ({exc})"
            ) from exc
        scenario_cls.from_params(params)
    elif not overrides:
        pass
    else:  # a notebook with no scenario class still gets the unknown-name check above
        for name, value in overrides.items():
            if isinstance(defaults[name], int | float) and isinstance(value, str):
                raise ParameterError(name, value, f"a number like the default {defaults[name]!r}")
    return params
