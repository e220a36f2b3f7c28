"""Names people and tenants go by: one canonical form, nothing invisible, no look-alikes.

A user's name is what alert actions record as who acted and what other users see, so it must
read as what it is: NFC-normalised (the same text is stored as the same code points), and
without control, format, separator-control, private-use, surrogate or unassigned characters
(Unicode categories Cc, Cf, Zl, Zp, Co, Cs, Cn). That refuses U+202E RIGHT-TO-LEFT OVERRIDE
(which reverses how the rest displays) and U+200B ZERO WIDTH SPACE (invisible), with which a
second user could look exactly like `demo-admin`.

Categories are not enough: Unicode's Default_Ignorable_Code_Point property lists what displays
as nothing whatever its category, among them U+034F COMBINING GRAPHEME JOINER (Mn), the
variation selectors (Mn), and the Hangul fillers U+115F, U+1160, U+3164, U+FFA0 (Lo). Those are
refused too (`DEFAULT_IGNORABLE`), as is U+2800 BRAILLE PATTERN BLANK (So), which displays as a
space yet is no white space to collapse.

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

#: Unicode's Default_Ignorable_Code_Point as DerivedCoreProperties.txt lists it for Unicode 14.0
#: (https://www.unicode.org/Public/UCD/latest/ucd/DerivedCoreProperties.txt), adjacent ranges
#: merged: Python's `unicodedata` lacks the property. Inclusive ranges.
DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # SOFT HYPHEN
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # ARABIC LETTER MARK
    (0x115F, 0x1160),  # HANGUL CHOSEONG FILLER..HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ..KHMER VOWEL INHERENT AA
    (0x180B, 0x180F),  # MONGOLIAN FREE VARIATION SELECTOR ONE..FOUR, MONGOLIAN VOWEL SEPARATOR
    (0x200B, 0x200F),  # ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),  # LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE
    (0x2060, 0x206F),  # WORD JOINER..NOMINAL DIGIT SHAPES
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..VARIATION SELECTOR-16
    (0xFEFF, 0xFEFF),  # ZERO WIDTH NO-BREAK SPACE
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # <reserved>
    (0x1BCA0, 0x1BCA3),  # SHORTHAND FORMAT LETTER OVERLAP..SHORTHAND FORMAT UP STEP
    (0x1D173, 0x1D17A),  # MUSICAL SYMBOL BEGIN BEAM..MUSICAL SYMBOL END PHRASE
    (0xE0000, 0xE0FFF),  # LANGUAGE TAG, TAG SPACE..CANCEL TAG, VARIATION SELECTOR-17..256, <reserved>
)
#: Visible as empty space, yet neither white space nor default-ignorable.
BLANK_SYMBOLS = frozenset({"\u2800"})  # BRAILLE PATTERN BLANK

_UNNAMED = {"Cc": "a control character", "Co": "private use", "Cs": "a lone surrogate", "Cn": "unassigned"}


def is_default_ignorable(char: str) -> bool:
    """Whether Unicode says `char` displays as nothing (Default_Ignorable_Code_Point)."""
    code = ord(char)
    return any(first <= code <= last for first, last in DEFAULT_IGNORABLE)


def _refusal(char: str) -> str | None:
    """Why `char` may not be in a name, or None."""
    category = unicodedata.category(char)
    if category in REFUSED_CATEGORIES:
        return f"{unicodedata.name(char, '') or _UNNAMED.get(category, 'unnamed')}, category {category}"
    if is_default_ignorable(char):
        return f"{unicodedata.name(char, 'unnamed')}, invisible: Default_Ignorable_Code_Point"
    if char in BLANK_SYMBOLS:
        return f"{unicodedata.name(char)}, blank: displays as empty space"
    return None


def canonical_name(value: str) -> str:
    """The name as stored: stripped, NFC; `ValueError` saying which character is refused and where."""
    name = unicodedata.normalize("NFC", value.strip())
    for position, char in enumerate(name, start=1):
        reason = _refusal(char)
        if reason is not None:
            raise ValueError(
                f"a name may not contain control or invisible formatting characters: U+{ord(char):04X} "
                f"({reason}) at position {position}"
            )
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise ValueError(f"a name is 1 to {MAX_NAME_CHARS} characters")
    return name


def lookalike_key(name: str) -> str:
    """What two names that read the same have in common (compared for uniqueness, never stored)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())
