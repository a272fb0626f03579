"""The calibration study: ``STUDY`` declares it (question, scenario, run, simulator) for the registry.

Inside the package: ``numbers`` computes, ``result`` holds what the report shows.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.calibration.result import run
from experiments.studies.calibration.scenario import CalibrationScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="calibration",
    question="Proof by simulation: do the tests keep their false-positive rate, coverage and power, what "
    "does CUPED gain, and what does peeking cost?",
    scenario=CalibrationScenario,
    run=run,
    sweep_figure=SweepFigure("coverage", "",
                             "the interval coverage of the conversion test"),
)
