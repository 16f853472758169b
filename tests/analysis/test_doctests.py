"""The tiny worked examples in the analysis docstrings stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import tracker.analysis

MODULES = sorted(m.name for m in pkgutil.walk_packages(tracker.analysis.__path__, "tracker.analysis."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
