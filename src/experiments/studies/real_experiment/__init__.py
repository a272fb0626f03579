"""The real experiment study: ``STUDY`` declares it (question, scenario, sweep figure) for the registry.

Inside the package, the same files as every study: ``scenario`` declares the parameters,
``numbers`` computes, ``words`` says, ``result`` holds what the report shows.
Declaring the study imports its scenario only; ``run`` loads the rest.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.real_experiment.scenario import RealExperimentScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="real_experiment",
    question="Which e-mail should we send? The full analysis of a real randomised campaign (Hillstrom, "
    "64,000 customers) or of any experiment file.",
    scenario=RealExperimentScenario,
    sweep_figure=SweepFigure("effect_{decision_metric}", None,
                             "the best arm's effect on the decision metric: the e-mail one would send"),
)
#: ``run(scenario) -> result`` (the package's ``result.run``), what the notebook calls.
run = STUDY.run
