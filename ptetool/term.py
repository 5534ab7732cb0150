"""The terminal layer: the only module that writes to stdout or stderr.

Plain text goes straight to the streams (fast, no rich import); rich views
go through consoles built here with markup and highlighting off.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

PROG = "ptetool"


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    sys.stderr.write(f"{PROG}: {text}\n")


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def wants_color(mode: str, stream: TextIO | None = None) -> bool:
    """--color: auto colours only a terminal and honours NO_COLOR; always forces it."""
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    return (stream or sys.stdout).isatty()


def make_console(color: bool, file: TextIO | None = None, width: int | None = None, record: bool = False) -> Console:
    from rich.console import Console

    return Console(
        file=file or sys.stdout,
        width=width,
        color_system="truecolor" if color else None,
        force_terminal=color or None,
        no_color=not color,
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        record=record,
        legacy_windows=False,
    )


def show(renderable: RenderableType, color: bool) -> None:
    make_console(color).print(renderable)
