"""The loyalty study: ``STUDY`` declares it (question, scenario, run, simulator) for the registry.

Inside the package: ``result`` holds what the report shows.
"""

from __future__ import annotations

from experiments.simulate.loyalty import simulate_loyalty
from experiments.studies.base import Study, SweepFigure
from experiments.studies.loyalty.result import run
from experiments.studies.loyalty.scenario import LoyaltyScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="loyalty",
    question="Does a loyalty programme raise repeat purchases and lifetime value by more than its rewards "
    "cost?",
    scenario=LoyaltyScenario,
    run=run,
    simulate=simulate_loyalty,
    sweep_figure=SweepFigure("net_value", "",
                             "the net value per offered customer"),
)
