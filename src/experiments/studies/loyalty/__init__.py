"""The loyalty study: ``STUDY`` declares it (question, scenario, sweep figure) for the registry.

Inside the package, the same files as every study: ``scenario`` declares the parameters,
``numbers`` computes (``simulate`` draws the data), ``words`` says, ``result`` holds what the report shows.
Declaring the study imports its scenario only; ``run`` loads the rest.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.loyalty.scenario import LoyaltyScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="loyalty",
    question="Does a loyalty programme raise repeat purchases and lifetime value by more than its rewards "
    "cost?",
    scenario=LoyaltyScenario,
    simulated=True,
    sweep_figure=SweepFigure("net_value", "",
                             "the net value per customer offered both levers"),
)
#: ``run(scenario) -> result`` (the package's ``result.run``), what the notebook calls.
run = STUDY.run
