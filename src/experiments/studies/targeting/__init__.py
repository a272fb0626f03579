"""The targeting study: ``STUDY`` declares it (question, scenario, sweep figure) for the registry.

Inside the package, the same files as every study: ``scenario`` declares the parameters,
``numbers`` computes (``simulate`` draws the data), ``words`` says, ``result`` holds what the report shows.
Declaring the study imports its scenario only; ``run`` loads the rest.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.targeting.scenario import TargetingScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="targeting",
    question="Whom should a remarketing campaign treat? Uplift models against targeting likely buyers, "
    "judged on a randomised hold-out against the true effect of every customer.",
    scenario=TargetingScenario,
    simulated=True,
    # the policy one can deploy: the oracle's needs every customer's true effect, which no one knows
    sweep_figure=SweepFigure("policy_profit", "uplift",
                             "the uplift policy's incremental profit per 1,000 customers"),
)
#: ``run(scenario) -> result`` (the package's ``result.run``), what the notebook calls.
run = STUDY.run
