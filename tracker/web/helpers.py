"""Small helpers shared by the views."""

from __future__ import annotations

import base64
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from flask import current_app, flash, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from tracker.services.errors import DomainError
from tracker.services.media import MediaFile

from .context import get_db, get_storage

T = TypeVar("T")


@contextmanager
def unit_of_work(db: Session | None = None, *,
                 commit_on: tuple[type[DomainError], ...] = ()) -> Iterator[Session]:
    """One transaction around a view's service calls: committed when the block ends, rolled back
    when it raises (the error goes on to the view or to the error handler). ``commit_on`` names
    refusals that are themselves recorded (a failed sign-in, a marketing export without consent):
    the record is committed before the error goes on. Views commit only through this; services
    never commit (the exceptions are named in docs/ARCHITECTURE.md)."""
    db = db if db is not None else get_db()
    try:
        yield db
    except commit_on:
        db.commit()
        raise
    except BaseException:
        db.rollback()
        raise
    db.commit()


def send_media(media: MediaFile, *, etag: bool = False) -> Any:
    """Send a file chosen (access checked, view audited) by :mod:`tracker.services.media`."""
    response = get_storage().send(media.key, mimetype=media.mimetype, download_name=media.download_name, etag=etag)
    if media.download_name is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def commit_or_show(db: Session, form: FlaskForm, call: Callable[[], T]) -> tuple[bool, T | None]:
    """Run a service call in a unit of work; on a domain error show it on the form.

    Returns ``(True, result)`` when it was saved, ``(False, None)`` when the error is shown.
    """
    try:
        with unit_of_work(db):
            result = call()
    except DomainError as e:
        show_error(form, e)
        return False, None
    return True, result


def commit_or_flash(db: Session, call: Callable[[], T]) -> tuple[bool, T | None]:
    """Run a service call and commit; on a domain error roll back and flash it.

    A "not found" error is raised again, so the page answers 404 rather than a message.
    Returns ``(True, result)`` when it was saved, ``(False, None)`` when the error is flashed.
    """
    try:
        with unit_of_work(db):
            result = call()
    except DomainError as e:
        if e.status == 404:
            raise
        flash(e.message, "error")
        return False, None
    return True, result


def show_error(form: FlaskForm | None, error: DomainError, **aliases: str) -> None:
    """Put a service's error next to its field when the form has it, else flash it."""
    name = aliases.get(error.field or "", error.field)
    field = getattr(form, name, None) if (form is not None and name) else None
    if field is not None and hasattr(field, "errors"):
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.append(error.message)
    else:
        flash(error.message, "error")


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI (rendered here; no outside service)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=10)
    qr.add_data(text)
    qr.make(fit=True)
    image = qr.make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    buf = io.BytesIO()
    image.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def or_none(value: Any) -> Any:
    return None if value in ("", None) else value


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to hand out (invitation link, QR code): built from
    ``TRACKER_PUBLIC_URL`` when set, never from a Host header it did not check."""
    base = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    return base + url_for(endpoint, **values)


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` for a download named ``filename``, safe for any name: an
    ASCII fallback plus the UTF-8 name (RFC 5987 ``filename*``), quotes and control
    characters never reach the header."""
    printable = "".join(ch for ch in unicodedata.normalize("NFC", filename) if unicodedata.category(ch)[0] != "C")
    fallback = unicodedata.normalize("NFKD", printable).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "-", fallback).strip("-.") or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(printable, safe='')}"
