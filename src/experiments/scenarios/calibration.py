"""Typed, validated parameters of the calibration study (simulated experiments with known truth).

The defaults run 2,000 A/A and 2,000 A/B experiments of each kind in a few seconds. ``asos_*`` name the
real ASOS experiment replayed look by look (Liu et al. 2021, "Datasets for Online Controlled
Experiments", CC BY 4.0); every other default is a choice of the study, not a published figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.errors import ParameterError
from experiments.paths import ASOS_PARQUET
from experiments.scenarios.base import Scenario
from experiments.validation import as_float, as_int

__all__ = ["DEFAULTS", "CalibrationScenario"]

DEFAULTS: dict[str, Any] = {
    "seed": 20261124,
    "replications": 2000,
    "alpha": 0.05,
    "n_per_arm": 5000,  # customers per arm of each binary experiment
    "base_rate": 0.05,  # control conversion rate (e-mail campaigns convert a few percent)
    "power": 0.8,  # planned power of the power check
    "cuped_n_per_arm": 2000,
    "cuped_lift": 0.05,  # true relative lift of spend per customer in the CUPED check
    "looks": 20,  # daily looks
    "n_per_look": 500,  # customers added to each arm per look
    "asos_path": "",  # empty: the shared ASOS file
    "asos_experiment": "08bcc2",
    "asos_variant": 1,
    "asos_metric": 1,
}


@dataclass(frozen=True)
class CalibrationScenario(Scenario):
    """Sizes, seed and the real experiment of the calibration notebook.

    Build with :meth:`from_params`, which validates every value; :meth:`to_params` round-trips.
    """

    defaults = DEFAULTS

    seed: int
    replications: int
    alpha: float
    n_per_arm: int
    base_rate: float
    power: float
    cuped_n_per_arm: int
    cuped_lift: float
    looks: int
    n_per_look: int
    asos_path: str
    asos_experiment: str
    asos_variant: int
    asos_metric: int

    @classmethod
    def from_params(cls, params: Mapping[str, object] | None = None) -> CalibrationScenario:
        """Validate ``params`` (missing names take :data:`DEFAULTS`) and build the scenario.

        Raises
        ------
        ParameterError
            One line naming the parameter, the value and what is allowed.
        """
        p = cls.merged(params)
        path = p["asos_path"]
        if not isinstance(path, str | Path):
            raise ParameterError("asos_path", path, "a file path, or empty for the shared ASOS file")
        if str(path).strip() and not Path(str(path).strip()).is_file():
            raise ParameterError("asos_path", path, "an existing .parquet file, or empty for the shared one")
        experiment = p["asos_experiment"]
        if not isinstance(experiment, str) or not experiment.strip():
            raise ParameterError("asos_experiment", experiment, "an experiment id such as 08bcc2")
        alpha = as_float("alpha", p["alpha"], low=0.001, high=0.5)
        power = as_float("power", p["power"], low=0.05, high=0.99)
        if power <= alpha:
            raise ParameterError("power", power, f"a planned power above alpha ({alpha})")
        return cls(
            seed=as_int("seed", p["seed"], low=0),
            replications=as_int("replications", p["replications"], low=100, high=1_000_000),
            alpha=alpha,
            n_per_arm=as_int("n_per_arm", p["n_per_arm"], low=100, high=10_000_000),
            base_rate=as_float("base_rate", p["base_rate"], low=0.001, high=0.9),
            power=power,
            cuped_n_per_arm=as_int("cuped_n_per_arm", p["cuped_n_per_arm"], low=50, high=100_000),
            cuped_lift=as_float("cuped_lift", p["cuped_lift"], low=0.0, high=1.0),
            looks=as_int("looks", p["looks"], low=2, high=365),
            n_per_look=as_int("n_per_look", p["n_per_look"], low=10, high=1_000_000),
            asos_path=str(path).strip(),
            asos_experiment=experiment.strip(),
            asos_variant=as_int("asos_variant", p["asos_variant"], low=1, high=10),
            asos_metric=as_int("asos_metric", p["asos_metric"], low=1, high=4),
        )

    @property
    def asos_file(self) -> Path:
        """The ASOS file to read (the shared copy unless ``asos_path`` is set)."""
        return Path(self.asos_path) if self.asos_path else ASOS_PARQUET

    @property
    def daily_cells(self) -> int:
        """Simulated arm-looks in the peeking study (replications × looks × 2)."""
        return self.replications * self.looks * 2

