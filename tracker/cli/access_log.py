"""gunicorn's logger with secrets taken out of the access log: an invitation link's
token (in the request line, and in the Referer of the pages that follow it) would let
anyone who reads the log set the patient's password."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_TOKEN_PATHS = re.compile(r"(/invite/)[^/?#\s\"]+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    """
    >>> redact('GET /invite/AbC_123-x?next=1 HTTP/1.1')
    'GET /invite/[redacted]?next=1 HTTP/1.1'
    """
    return _TOKEN_PATHS.sub(REDACTED, text)


class RedactingLogger(Logger):  # type: ignore[misc]
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        values = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in values.items()}
