"""Run the CLI in-process with a fixed terminal, and pin the kernel model."""

from __future__ import annotations

from click.testing import CliRunner, Result

from ptetool.cli import cli

# A model that does not depend on the machine the tests run on.
PINNED = ["--kernel", "6.18", "--kconfig", "allyes", "--phys-bits", "46", "--no-la57"]
ENV = {"NO_COLOR": "1", "COLUMNS": "80", "LINES": "50", "TERM": "dumb"}
MODEL_LINE = ("ptetool: model: x86_64 pte, kernel 6.18, kconfig allyes, uffd-wp on, soft-dirty on, "
              "MAX_SWAPFILES 24, phys 46 bits\n")


def run(*args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, env={**ENV, **(env or {})}, catch_exceptions=False)
