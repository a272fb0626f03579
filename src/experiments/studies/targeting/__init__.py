"""The targeting study: ``STUDY`` declares it (question, scenario, run, simulator) for the registry.

Inside the package: ``numbers`` computes, ``result`` holds what the report shows.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.targeting.result import run, simulate_table
from experiments.studies.targeting.scenario import TargetingScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="targeting",
    question="Whom should a remarketing campaign treat? Uplift models against targeting likely buyers, "
    "judged on a randomised hold-out against the true effect of every customer.",
    scenario=TargetingScenario,
    run=run,
    simulate=simulate_table,
    # the policy one can deploy: the oracle's needs every customer's true effect, which no one knows
    sweep_figure=SweepFigure("policy_profit", "uplift",
                             "the uplift policy's incremental profit per 1,000 customers"),
)
