"""Where an analysis' overlay images are stored, and reading their keys back: the one parser of
``analyses.overlay_keys`` and ``analyses.overlay_sha256`` (JSON objects, name or key -> text)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from tracker.models import Analysis


def overlay_key(analysis_id: str, name: str, attempt: int = 0) -> str:
    """The storage key of overlay ``name`` ("redness.jpg", ...) of an analysis. Each attempt writes its
    own files: a worker that lost its lease (cut off from the database mid-job) can never overwrite the
    files of the attempt that was recorded."""
    return f"analyses/{analysis_id}/{attempt}/{name}" if attempt else f"analyses/{analysis_id}/{name}"


def parse_overlay_json(raw: str | None) -> dict[str, str]:
    """A stored ``overlay_keys`` or ``overlay_sha256`` value as a dict of its string entries; {} when
    missing or unreadable (a row from before a change)."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}


def overlay_keys(row: Analysis | None) -> dict[str, str]:
    """Overlay name ("redness", "spots", "lines", "aligned") -> storage key, for one analysis."""
    return parse_overlay_json(row.overlay_keys) if row is not None else {}


def overlay_hashes(row: Analysis) -> dict[str, str]:
    """Storage key -> SHA-256 of each overlay as written."""
    return parse_overlay_json(row.overlay_sha256)


def image_extension(key: str) -> str:
    """The file type of a stored overlay, from its key: "jpg" since 2026-12 (earlier analyses: "png")."""
    return "jpg" if key.endswith(".jpg") else "png"


def image_type(key: str) -> str:
    """The media type of a stored overlay, from its key (see :func:`image_extension`)."""
    return "image/jpeg" if image_extension(key) == "jpg" else "image/png"


def stored_overlay_keys(raw_values: Iterable[str | None]) -> list[str]:
    """Every storage key in these ``overlay_keys`` column values (rows about to be deleted)."""
    return [key for raw in raw_values for key in parse_overlay_json(raw).values()]
