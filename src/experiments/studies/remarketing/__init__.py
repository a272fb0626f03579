"""The remarketing study: ``STUDY`` declares it (question, scenario, run, simulator) for the registry.

Inside the package: ``numbers`` computes, ``result`` holds what the report shows.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.remarketing.result import run, simulate_table
from experiments.studies.remarketing.scenario import RemarketingScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="remarketing",
    question="Does a retargeting campaign create purchases that would not have happened anyway, at what cost "
    "each, and does it pay back?",
    scenario=RemarketingScenario,
    run=run,
    simulate=simulate_table,
    # each arm is a campaign one can send: the best arm's profit is a setting one can deploy
    sweep_figure=SweepFigure("incremental_profit", None,
                             "the best arm's incremental profit"),
)
