"""Security headers on every response: a strict Content-Security-Policy (no inline
script or style), no framing, no MIME sniffing, a same-origin referrer; over HTTPS,
HSTS and Secure session cookies (HttpOnly and SameSite=Lax always)."""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def set_security_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "geolocation=(), microphone=(), payment=(), usb=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages, images and downloads of patients are health data: no cache keeps them,
        # whatever send_file proposed.
        h["Cache-Control"] = "no-store"
    return response


class TrackerSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, marked Secure whenever the request came over HTTPS
    (directly or through the trusted proxy), not only when configured."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or (has_request_context() and request.is_secure))


def set_transport_headers(response: Response) -> Response:
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def register_security(app: Flask) -> None:
    app.session_interface = TrackerSessionInterface()
    app.after_request(set_security_headers)
    app.after_request(set_transport_headers)
