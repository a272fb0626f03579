"""Typed, validated parameters of the calibration study (simulated experiments with known truth).

The defaults run 2,000 A/A and 2,000 A/B experiments of each kind in a few seconds. ``asos_*`` name the
real ASOS experiment replayed look by look (Liu et al. 2021, "Datasets for Online Controlled
Experiments", CC BY 4.0); every other default is a choice of the study, not a published figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.datasets import check_asos_format
from experiments.errors import DataError, ParameterError
from experiments.paths import ASOS_PARQUET
from experiments.scenarios import params as P
from experiments.scenarios.base import Scenario

__all__ = ["DEFAULTS", "PARAMETERS", "CalibrationScenario"]


_ASOS_PATH_RULE = "a parquet file in the ASOS dataset's format, or empty for the shipped one"


def _asos_path(value: str) -> str:
    """Empty, or a file in the ASOS format (checked by its columns and types; the shipped copy by sha256
    when it is read)."""
    if not value:
        return value

    try:
        check_asos_format(value)
    except DataError as exc:
        raise ParameterError("asos_path", value, f"{_ASOS_PATH_RULE}: {exc}") from None
    return value


def _experiment_id(value: str) -> str:
    """A non-empty id. ASOS ids are six hex digits: one that reads as a number (``058875``) reaches a
    notebook as an integer under plain papermill (``58875``), so all-digit ids are padded back to six."""
    if not value:
        raise ParameterError("asos_experiment", value, "an experiment id such as 08bcc2")
    return value.zfill(6) if value.isdigit() else value


#: Every parameter, declared once: default, rule, help and source.
PARAMETERS: tuple[P.Param, ...] = (
    P.integer("seed", 20261124, "random seed: same seed and parameters give identical numbers", low=0),
    P.integer("replications", 2000, "simulated experiments per study (100 to 1,000,000)", low=100,
              high=1_000_000),
    P.number("alpha", 0.05, "significance level of every test (0.001 to 0.5)", low=0.001, high=0.5),
    P.integer("n_per_arm", 5000, "customers per arm in the conversion experiments", low=100,
              high=10_000_000),
    P.number("base_rate", 0.05, "control conversion rate (0.001 to 0.9)", low=0.001, high=0.9,
             source="e-mail campaigns convert a few percent (Hillstrom 2008: 0.6-1.3%)"),
    P.number("power", 0.8, "planned power of the power check (above alpha, at most 0.99)", low=0.05,
             high=0.99),
    P.integer("cuped_n_per_arm", 2000, "customers per arm in the spend experiments", low=50, high=100_000),
    P.number("cuped_lift", 0.05, "true relative lift of spend per customer (0 to 1)", low=0.0, high=1.0),
    P.integer("looks", 20, "daily looks at each monitored A/A experiment (2 to 365)", low=2, high=365),
    P.integer("n_per_look", 500, "new customers per arm between two looks", low=10, high=1_000_000),
    P.integer("long_looks", 100, "daily looks of the longer monitoring check: confidence sequence against "
              "mSPRT (2 to 1000)", low=2, high=1000),
    P.integer("capping_replications", 500, "simulated heavy-tailed experiments in the capping check "
              "(50 to 1,000,000)", low=50, high=1_000_000, source="assumption"),
    P.integer("coverage_replications", 50, "simulated experiments in each of the regression and "
              "exposed-effect checks (20 to 100,000; each goes through the analysis path, one at a time)",
              low=20, high=100_000, source="assumption"),
    P.text("asos_path", "", "ASOS parquet file; empty for the copy shipped in data/real/asos",
           allowed=_ASOS_PATH_RULE, check=_asos_path),
    P.text("asos_experiment", "08bcc2", "ASOS experiment id to replay",
           allowed="an experiment id such as 08bcc2", check=_experiment_id),
    P.integer("asos_variant", 1, "treatment arm of that experiment (1 to 10)", low=1, high=10),
    P.integer("asos_metric", 1, "decision metric (1 to 4; metric 1 is binary)", low=1, high=4),
)

#: Defaults of every parameter as plain literals (what the notebook's ``parameters`` cell holds).
DEFAULTS: dict[str, Any] = {p.name: p.default for p in PARAMETERS}


@dataclass(frozen=True)
class CalibrationScenario(Scenario):
    """Sizes, seed and the real experiment of the calibration notebook.

    Build with :meth:`from_params`, which validates every value; :meth:`to_params` round-trips.
    """

    parameters = PARAMETERS
    #: In memory, the peeking study holds every look of every replication: about 125 bytes each
    #: (measured at 20,000 and 40,000 replications of 365 looks).
    memory = (("replications", "most_looks"), 200)

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
    long_looks: int
    capping_replications: int
    coverage_replications: int
    asos_path: str
    asos_experiment: str
    asos_variant: int
    asos_metric: int

    @classmethod
    def check(cls, typed: dict[str, Any]) -> dict[str, Any]:
        """The planned power must exceed alpha."""
        if typed["power"] <= typed["alpha"]:
            raise ParameterError("power", typed["power"], f"a planned power above alpha ({typed['alpha']})")
        return typed

    @property
    def asos_file(self) -> Path:
        """The ASOS file to read (the shipped copy unless ``asos_path`` is set)."""
        return Path(self.asos_path) if self.asos_path else ASOS_PARQUET

    @property
    def most_looks(self) -> int:
        """Looks of the longer of the two monitored studies (what their memory grows with)."""
        return max(self.looks, self.long_looks)

    @property
    def daily_cells(self) -> int:
        """Simulated arm-looks in the peeking study (replications × looks × 2)."""
        return self.replications * self.looks * 2
