"""One mapping from errors to responses: domain errors, HTTP errors, CSRF failures."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError

from tracker.services.errors import DomainError

from .access import wants_json
from .context import get_limits

log = logging.getLogger(__name__)

TITLES = {
    400: "Something in the request was not right",
    401: "Please sign in",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not available here",
    409: "That cannot be done right now",
    410: "This link can no longer be used",
    413: "The file is too large",
    415: "This type of file is not accepted",
    422: "The file was refused",
    500: "Something went wrong on our side",
}

DEFAULT_MESSAGES = {
    403: "Your account does not have access to this. If you think it should, ask your clinic admin.",
    404: "The page or record does not exist, or it is not part of your clinic.",
    405: "Go back and use the buttons on the page.",
    500: "The error has been logged. Please try again; if it keeps happening, tell your clinic admin.",
}


def _respond(status: int, message: str, *, field: str | None = None) -> Any:
    if wants_json():
        body: dict[str, Any] = {"error": message}
        if field:
            body["field"] = field
        response = jsonify(body)
        response.status_code = status
        return response
    return render_template("errors/error.html", status=status, title=TITLES.get(status, "Error"),
                           message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(e: DomainError) -> Any:
        return _respond(e.status, e.message, field=e.field)

    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError) -> Any:
        return _respond(400, "This form has expired or was sent from elsewhere. Reload the page and try again.")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(e: RequestEntityTooLarge) -> Any:
        limit = get_limits().max_bytes // (1024 * 1024)
        return _respond(413, f"The file is larger than the {limit} MB limit. Export the photo at a smaller size.")

    @app.errorhandler(SecurityError)
    def untrusted_host(e: SecurityError) -> Any:
        # No URL can be built for a host we do not serve: a plain answer, no page.
        return "This server does not answer to that host name.", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Any:
        status = e.code or 500
        message = DEFAULT_MESSAGES.get(status) or (e.description or "")
        return _respond(status, message)

    @app.errorhandler(Exception)
    def unexpected(e: Exception) -> Any:
        log.exception("unhandled error")
        return _respond(500, DEFAULT_MESSAGES[500])
