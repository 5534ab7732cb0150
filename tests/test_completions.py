"""The checked-in completion scripts are what click generates now: regenerate them when this fails.

    for sh in bash zsh fish; do _PTETOOL_COMPLETE=${sh}_source ptetool > completions/ptetool.$sh; done
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ptetool.cli import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_has_not_drifted(shell: str) -> None:
    env = {**os.environ, "_PTETOOL_COMPLETE": f"{shell}_source"}
    fresh = subprocess.run([sys.executable, "-c", "from ptetool.cli import main; main()"], env=env,
                           capture_output=True, text=True, check=True).stdout
    assert (ROOT / "completions" / f"ptetool.{shell}").read_text() == fresh


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, command in cli.commands.items():
        assert command.help, name
        assert f"ptetool {name}" in readme, f"README does not show `ptetool {name}`"
