"""The omnichannel study: ``STUDY`` declares it (question, scenario, run, simulator) for the registry.

Inside the package: ``numbers`` computes, ``words`` says, ``budget`` re-plays budgets, ``result`` holds
what the report shows.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.omnichannel.numbers import EXPERIMENT_PLAN
from experiments.studies.omnichannel.result import run, simulate_log
from experiments.studies.omnichannel.scenario import OmnichannelScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="omnichannel",
    question="Which channels does each attribution model credit, against the sales each channel really "
    "causes, and what does moving budget by that credit do to profit?",
    scenario=OmnichannelScenario,
    run=run,
    simulate=simulate_log,
    # the plan one can make: the truth's plan needs every channel's true incrementality, which no one knows
    sweep_figure=SweepFigure("experiment_plan_profit_change", EXPERIMENT_PLAN,
                             "the true profit change of the budget plan made from the channel experiments"),
)
