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


# British spellings of dermatopathology's words and their American forms: a search for
# either finds both (the vocabularies, abstracts and curators write both).
BRITISH_AMERICAN = {
    "tumour": "tumor",
    "tumours": "tumors",
    "naevus": "nevus",
    "naevi": "nevi",
    "naevoid": "nevoid",
    "haemangioma": "hemangioma",
    "haemangiomas": "hemangiomas",
    "haemangioendothelioma": "hemangioendothelioma",
    "haemorrhage": "hemorrhage",
    "haemorrhagic": "hemorrhagic",
    "oedema": "edema",
    "leukaemia": "leukemia",
    "anaemia": "anemia",
    "haematoxylin": "hematoxylin",
    "oestrogen": "estrogen",
    "paediatric": "pediatric",
    "behaviour": "behavior",
    "colour": "color",
    "fibre": "fiber",
    "centre": "center",
}


def american_spelling(word: str) -> str:
    """The American form of a (folded) word, or the word."""
    return BRITISH_AMERICAN.get(word, word)


def spelling_variants(word: str) -> list[str]:
    """A word and its other spelling, if it has one (“tumour” ↔ “tumor”)."""
    folded = word.casefold()
    for british, american in BRITISH_AMERICAN.items():
        if folded == british:
            return [word, american]
        if folded == american:
            return [word, british]
    return [word]
