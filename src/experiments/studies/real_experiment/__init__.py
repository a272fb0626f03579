"""The real experiment study: ``STUDY`` declares it (question, scenario, run, simulator) for the registry.

Inside the package: ``uplift`` words the uplift section, ``result`` holds what the report shows.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.real_experiment.result import run
from experiments.studies.real_experiment.scenario import RealExperimentScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="real_experiment",
    question="Which e-mail should we send? The full analysis of a real randomised campaign (Hillstrom, "
    "64,000 customers) or of any experiment file.",
    scenario=RealExperimentScenario,
    run=run,
    sweep_figure=SweepFigure("effect_{decision_metric}", None,
                             "the best arm's effect on the decision metric: the e-mail one would send"),
)
