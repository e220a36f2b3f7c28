"""Names people and tenants go by: one canonical form, nothing invisible, no look-alikes.

A user's name is what alert actions record as who acted and what other users see, so it must
read as what it is: NFC-normalised (the same text is stored as the same code points), and
without control, format, separator-control, private-use, surrogate or unassigned characters
(Unicode categories Cc, Cf, Zl, Zp, Co, Cs, Cn). That refuses U+202E RIGHT-TO-LEFT OVERRIDE
(which reverses how the rest displays) and U+200B ZERO WIDTH SPACE (invisible), with which a
second user could look exactly like `demo-admin`.

Uniqueness compares `lookalike_key`: NFKC with case folding (Unicode's identifier caseless
match, as NFKC_Casefold) and runs of white space collapsed. That also catches what NFC keeps
apart but reads the same: full-width letters (`ａｄｍｉｎ`), ligatures, case (`Demo-Admin`),
non-breaking or double spaces. It is computed in Python over the tenant's names (tens, not
millions), so no table changes; the database's unique (tenant, name) constraint still guards
exact duplicates under concurrency. Cross-script homoglyphs (Cyrillic `а` for Latin `a`) would
need the Unicode confusables table (UTS #39), which is not worth its weight for names only a
tenant's admin can create.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 200
#: Categories with no business in a displayed name (see the module docstring).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})

_UNNAMED = {"Cc": "a control character", "Co": "private use", "Cs": "a lone surrogate", "Cn": "unassigned"}


def canonical_name(value: str) -> str:
    """The name as stored: stripped, NFC; `ValueError` saying which character is refused and where."""
    name = unicodedata.normalize("NFC", value.strip())
    for position, char in enumerate(name, start=1):
        category = unicodedata.category(char)
        if category in REFUSED_CATEGORIES:
            what = unicodedata.name(char, "") or _UNNAMED.get(category, "unnamed")
            raise ValueError(
                f"a name may not contain control or invisible formatting characters: U+{ord(char):04X} "
                f"({what}, category {category}) at position {position}"
            )
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise ValueError(f"a name is 1 to {MAX_NAME_CHARS} characters")
    return name


def lookalike_key(name: str) -> str:
    """What two names that read the same have in common (compared for uniqueness, never stored)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())
