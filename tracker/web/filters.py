"""Jinja filters and globals: dates, labels and sizes as people read them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from tracker import __version__
from tracker.models import vocabulary as vocab
from tracker.services.intake import human_size


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


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        date=fmt_date,
        datetime=fmt_datetime,
        filesize=human_size,
        number=number,
        age=age_on,
        roman=lambda n: vocab.ROMAN.get(n, str(n)),
    )

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"vocab": vocab, "app_version": __version__, "today": dt.date.today()}
