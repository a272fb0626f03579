"""The omnichannel study: ``STUDY`` declares it (question, scenario, sweep figure) for the registry.

Inside the package, the same files as every study: ``scenario`` declares the parameters,
``numbers`` computes (``simulate`` draws the data), ``words`` says, ``result`` holds what the report shows.
Declaring the study imports its scenario only; ``run`` loads the rest.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.omnichannel.scenario import EXPERIMENT_PLAN, OmnichannelScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="omnichannel",
    question="Which channels does each attribution model credit, against the sales each channel really "
    "causes, and what does moving budget by that credit do to profit?",
    scenario=OmnichannelScenario,
    simulated=True,
    # the plan one can make: the truth's plan needs every channel's true incrementality, which no one knows
    sweep_figure=SweepFigure("experiment_plan_profit_change", EXPERIMENT_PLAN,
                             "the true profit change of the budget plan made from the channel experiments"),
)
#: ``run(scenario) -> result`` (the package's ``result.run``), what the notebook calls.
run = STUDY.run
