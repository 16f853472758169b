"""Jinja filters and globals: dates, labels and sizes as people read them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from tracker import __version__
from tracker.analysis.measures import CHARTED
from tracker.models import vocabulary as vocab
from tracker.services.intake import human_size
from tracker.services.progress import changes
from tracker.services.series import capture_visit, settings_text


def fmt_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone()
    return f"{value.day} {value:%b %Y}"


def fmt_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone()
    return f"{value.day} {value:%b %Y, %H:%M}"


def age_on(dob: dt.date, today: dt.date | None = None) -> int:
    today = today or dt.date.today()
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    text = f"{value:g}"
    return f"{text} {unit}".strip()


def measure(value: float | None, digits: int = 2) -> str:
    """A measure for a table: ``digits`` decimals, or 3 significant digits for small values.

    >>> measure(12.345), measure(0.000372), measure(-0.0), measure(None)
    ('12.35', '0.000372', '0.00', '–')
    """
    if value is None:
        return "–"
    if value != 0 and abs(value) < 0.1:
        return f"{value:.3g}"
    return f"{value:.{digits}f}".replace("-0.00", "0.00")


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        date=fmt_date,
        datetime=fmt_datetime,
        filesize=human_size,
        number=number,
        measure=measure,
        age=age_on,
        roman=lambda n: vocab.ROMAN.get(n, str(n)),
    )

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"vocab": vocab, "app_version": __version__, "today": dt.date.today(),
                "capture_visit": capture_visit, "settings_text": settings_text, "changes": changes,
                "measures_charted": CHARTED}
