"""The lifecycle study: ``STUDY`` declares it (question, scenario, sweep figure) for the registry.

Inside the package, the same files as every study: ``scenario`` declares the parameters,
``numbers`` computes (``simulate`` draws the data), ``words`` says, ``result`` holds what the report shows.
Declaring the study imports its scenario only; ``run`` loads the rest.
"""

from __future__ import annotations

from experiments.studies.base import Study, SweepFigure
from experiments.studies.lifecycle.scenario import LifecycleScenario

__all__ = ["STUDY", "run"]

STUDY = Study(
    name="lifecycle",
    question="Where does the next dollar earn most, acquiring, retaining or winning back customers, and "
    "which campaigns only move purchases in time?",
    scenario=LifecycleScenario,
    simulated=True,
    # every route is a place the budget can go: the best route's return is a setting one can deploy
    sweep_figure=SweepFigure("marginal_return", None,
                             "the margin back from the next budget on its best route"),
)
#: ``run(scenario) -> result`` (the package's ``result.run``), what the notebook calls.
run = STUDY.run
