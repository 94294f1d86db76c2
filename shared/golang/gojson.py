"""``encoding/json``'s compact output, byte-compatible with tsuru's bodies."""

from __future__ import annotations

import json
from typing import Any

# Go's encoder escapes these inside strings (HTML safety); clients decode both forms.
# They can only occur inside JSON strings, so translating the whole text is safe.
_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def marshal(value: Any) -> str:
    """``json.Marshal(value)`` as text: compact, UTF-8 kept, HTML-safe escapes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).translate(_ESCAPES)
