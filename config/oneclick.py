"""Signed links that act without a login (unsubscribe from an e-mail in one click).

One rule for every such link: the data is signed with Django's signing (the secret key
and a salt per purpose), never expires, and a link that is forged or cut short is
refused with the same clear message. A GET only shows what the link would do (link
scanners open links); a POST does it (RFC 8058's List-Unsubscribe-Post included).
"""

from __future__ import annotations

from django.core import signing
from django.core.exceptions import ValidationError

REFUSED = (
    "This link is not one RareDerm sent (it may have been cut short by your e-mail "
    "program): open the whole link from the e-mail."
)


def token(purpose: str, data: dict) -> str:
    return signing.dumps(data, salt=f"oneclick:{purpose}")


def read(purpose: str, value: str) -> dict:
    """The data of a token made for `purpose`; ValidationError (REFUSED) otherwise."""
    try:
        data = signing.loads(value, salt=f"oneclick:{purpose}")
    except signing.BadSignature:
        raise ValidationError(REFUSED) from None
    if not isinstance(data, dict):
        raise ValidationError(REFUSED)
    return data


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers of an e-mail whose one-click unsubscribe link is `url` (RFC 8058)."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
