"""Fixtures shared by every test layer."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Real photographs live beside the project, never inside it (see ../shared/data/real/*/SOURCES.md).
REAL_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder of real photographs, or a clear skip when the shared folder is absent."""
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real photographs not found at {REAL_DATA_DIR} (../shared/data/real is absent)")
    return REAL_DATA_DIR
