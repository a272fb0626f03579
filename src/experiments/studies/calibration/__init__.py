"""The calibration study: ``STUDY`` declares it (question, scenario, sweep figure) for the registry.

Inside the package, the same files as every study: ``scenario`` declares the parameters,
``numbers`` computes, ``words`` says, ``result`` holds what the report shows.
Declaring the study imports its scenario only; ``run`` loads the rest.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.calibration.scenario import CalibrationScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="calibration",
    question="Proof by simulation: do the tests keep their false-positive rate, coverage and power, what "
    "does CUPED gain, and what does peeking cost?",
    scenario=CalibrationScenario,
    sweep_figure=SweepFigure("coverage", "",
                             "the interval coverage of the conversion test"),
)
#: ``run(scenario) -> result`` (the package's ``result.run``), what the notebook calls.
run = STUDY.run
