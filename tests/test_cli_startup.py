"""``experiments --help`` lists every command from one table without importing any command module, so it
stays fast and loads none of the numerical or drawing libraries."""

from __future__ import annotations

import subprocess
import sys

from experiments.commands import COMMANDS, module_name

HEAVY = ("polars", "numpy", "scipy", "statsmodels", "altair", "sklearn", "pandas", "duckdb", "ibis")


def test_help_imports_no_command_module_and_no_heavy_library() -> None:
    code = ("import sys\nfrom experiments.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
            "print(sorted(m for m in sys.modules if m.startswith('experiments.commands.')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, commands = done.stdout.strip().splitlines()[-2:]
    assert heavy == "[]" and commands == "[]"
    for name, line in COMMANDS.items():  # each listed with its one-line help
        assert name in done.stdout and line.split()[0] in done.stdout


def test_every_listed_command_has_its_module() -> None:
    import importlib

    for name, line in COMMANDS.items():
        module = importlib.import_module(module_name(name))
        assert callable(module.register) and line
