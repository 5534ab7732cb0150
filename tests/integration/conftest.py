"""Shared by the integration tests: feature probes and a temporary swap file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

if sys.platform.startswith("linux"):
    from . import memstates as ms

    PROBE = ms.probe()


def need(feature: str) -> None:
    """Skip, with the probe's reason, when this machine lacks ``feature``."""
    if PROBE.get(feature):
        pytest.skip(PROBE[feature])


@pytest.fixture(scope="module")
def swap() -> Iterator[ms.SwapInfo | str]:
    """A SwapInfo for a temporary swap file, or a str saying why none could be enabled."""
    cm = ms.temporary_swap()
    try:
        info = cm.__enter__()
    except ms.SwapUnavailable as e:
        yield str(e)
        return
    try:
        yield info
    finally:
        cm.__exit__(None, None, None)
        left = [s["filename"] for s in ms.active_swaps()
                if os.path.realpath(s["filename"]) == os.path.realpath(info.path)]
        assert not left, f"temporary swap still active: {left}"
        assert not os.path.exists(info.path), f"swap file left behind: {info.path}"
