"""The pagemap command (issue #4): replaced by the full implementation."""

from __future__ import annotations

import click


@click.command("pagemap")
def pagemap_cmd() -> None:
    """Decode /proc/PID/pagemap records (not yet implemented)."""
    raise click.UsageError("pagemap is not implemented yet")
