"""The same seed and parameters give the same bits, whatever polars' thread count and scheduling.

Each study runs in fresh processes with one polars thread and with several; their figures and tables
must agree bit for bit (floats compared by their hex form).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

_RUN = """
import json, sys
from experiments.studies import registry
name, params = sys.argv[1], json.loads(sys.argv[2])
study = registry.get(name)
result = study.run(study.scenario.from_params(params))
figures = [[f.name, *(None if v is None else float(v).hex() for v in (f.estimate, f.ci_low, f.ci_high,
                                                                      f.truth))] for f in result.figures()]
tables = {k: t.write_csv() for k, t in result.tables().items()}
print(json.dumps({"figures": figures, "tables": tables}))
"""


def _run(name: str, params: dict[str, object], threads: int) -> dict[str, object]:
    env = {**os.environ, "POLARS_MAX_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", _RUN, name, json.dumps(params)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("loyalty", {"n_customers": 5000}),
        ("real_experiment", {"uplift_treatment": ""}),
    ],
)
def test_study_is_bit_identical_across_thread_counts(name: str, params: dict[str, object]) -> None:
    one = _run(name, params, threads=1)
    assert one["figures"] and one["tables"]
    for threads in (4, 4):
        assert _run(name, params, threads=threads) == one
