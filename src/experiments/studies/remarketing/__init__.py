"""The remarketing study: ``STUDY`` declares it (question, scenario, sweep figure) for the registry.

Inside the package, the same files as every study: ``scenario`` declares the parameters,
``numbers`` computes (``simulate`` draws the data), ``words`` says, ``result`` holds what the report shows.
Declaring the study imports its scenario only; ``run`` loads the rest.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.remarketing.scenario import RemarketingScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="remarketing",
    question="Does a retargeting campaign create purchases that would not have happened anyway, at what cost "
    "each, and does it pay back?",
    scenario=RemarketingScenario,
    simulated=True,
    # each arm is a campaign one can send: the best arm's profit is a setting one can deploy
    sweep_figure=SweepFigure("incremental_profit", None,
                             "the best arm's incremental profit"),
)
#: ``run(scenario) -> result`` (the package's ``result.run``), what the notebook calls.
run = STUDY.run
