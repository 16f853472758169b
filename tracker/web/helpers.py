"""Small helpers shared by the views."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any, TypeVar

import qrcode
import qrcode.image.svg
from flask import flash
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from tracker.services.errors import DomainError

T = TypeVar("T")


def commit_or_show(db: Session, form: FlaskForm, call: Callable[[], T]) -> tuple[bool, T | None]:
    """Run a service call and commit; on a domain error roll back and show it on the form.

    Returns ``(True, result)`` when it was saved, ``(False, None)`` when the error is shown.
    """
    try:
        result = call()
        db.commit()
    except DomainError as e:
        db.rollback()
        show_error(form, e)
        return False, None
    return True, result


def commit_or_flash(db: Session, call: Callable[[], T]) -> tuple[bool, T | None]:
    """Run a service call and commit; on a domain error roll back and flash it.

    A "not found" error is raised again, so the page answers 404 rather than a message.
    Returns ``(True, result)`` when it was saved, ``(False, None)`` when the error is flashed.
    """
    try:
        result = call()
        db.commit()
    except DomainError as e:
        db.rollback()
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
