"""The omnichannel study: ``STUDY`` declares it (question, scenario, run, simulator) for the registry.

Inside the package: ``numbers`` computes, ``words`` says, ``budget`` re-plays budgets, ``result`` holds
what the report shows.
"""

from __future__ import annotations

from experiments.scenarios.omnichannel import OmnichannelScenario
from experiments.studies.base import Study
from experiments.studies.omnichannel.result import run, simulate_log

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="omnichannel",
    question="Which channels does each attribution model credit, against the sales each channel really "
    "causes, and what does moving budget by that credit do to profit?",
    scenario=OmnichannelScenario,
    run=run,
    simulate=simulate_log,
    sweep_figure="experiment_plan_profit_change",
)
