"""The examples in docstrings run, as a user would type them."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["ptetool", "ptetool.api", "ptetool.decoder", "ptetool.kernel", "ptetool.layout", "ptetool.values"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    if name != "ptetool.values":
        assert result.attempted > 0, f"{name} shows no example"
