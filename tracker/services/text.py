"""Names typed by people, made safe to show anywhere: no control characters and no
bidirectional overrides (U+202E would make "gpj.exe" read as "exe.jpg" and reorder a
patient's name in lists, PDFs and CSVs)."""

from __future__ import annotations

import re
import unicodedata

#: Bidi embeddings, overrides, isolates and marks (Unicode TR9).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def plain_text(value: str | None) -> str:
    """``value`` NFC-normalised, without control characters or bidi controls, with runs of
    white space collapsed to one space and trimmed.

    >>> plain_text("  Ann\\u202eaM  \\t Lee\\x00 ")
    'AnnaM Lee'
    """
    text = unicodedata.normalize("NFC", value or "")
    kept = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or (ch not in BIDI_CONTROLS and unicodedata.category(ch) != "Cc"))
    return re.sub(r"\s+", " ", kept).strip()
