"""How user text is cleaned: the one place for it (search boxes, comments).

PostgreSQL cannot hold a NUL character in text, and control characters have
no place in a search or a comment; both come in through addresses and forms.
"""

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def search_text(value: str | None, limit: int) -> str:
    """One line of searched text: control characters out, spaces collapsed, at most limit."""
    value = _CONTROL.sub(" ", value or "")
    value = re.sub(r"\s+", " ", value).strip()
    return value[:limit].strip()


def stored_text(value: str | None) -> str:
    """Text as stored (a comment may keep its lines): stripped, without NUL characters."""
    return (value or "").replace("\x00", "").strip()
