"""Console passwords: which ones are acceptable, and their Argon2id hashes. No database here.

Why a slow KDF here, when API keys take HMAC-SHA256 (`central.accounts`): a key is 256 random
bits, a password is whatever a person can remember. A stolen database dump lets anyone test
guesses offline against a password hash, so each guess must cost time and memory: Argon2id,
the winner of the Password Hashing Competition, with RFC 9106's second recommended profile
(`argon2.profiles.RFC_9106_LOW_MEMORY`: 64 MiB, 3 passes, 4 lanes; about 0.14 s on the 2-core
development machine). The first recommended profile takes 2 GiB per hash: not for an API server.
`argon2-cffi` binds the reference implementation and writes PHC strings (`$argon2id$v=19$m=...`),
which carry their own parameters, so a hash made with older parameters still verifies and is
replaced at the next sign-in (`needs_rehash`).

What is refused (NIST SP 800-63B, 5.1.1.2, asks for a length floor and a block list, and no
composition rules): fewer than 12 characters; fewer than 5 distinct ones; digits only (a phone
number or a date, guessed first); a stretch of a keyboard row or of the alphabet; a password
built on one of a short list of the words that top every leaked-password list (and Indonesian
ones), whatever digits and symbols decorate it, alone, repeated or joined to another of them
("passwordpassword", "admin2026admin", "sayangku123!"); one containing the user's name. A longer block
list (the 100,000 of NCSC's list) would bring a data file for little: at 12 characters and
more, few of its entries remain, and those are what the rules above catch.

Passwords are NFKC-normalised before hashing (SP 800-63B again), so the same password typed on a
phone's keyboard and on a desktop (composed or decomposed accents, full-width digits) matches.
"""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from central.errors import InvalidInput

MIN_PASSWORD_CHARS = 12
#: Argon2 prehashes anything long, but a password of a megabyte is no password: bounded work.
MAX_PASSWORD_CHARS = 1024
MIN_DISTINCT_CHARS = 5

HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)

#: A hash of a random password nobody kept, with `HASHER`'s parameters: verified against when
#: the user is unknown, disabled or has no password, so that a sign-in costs the same work in
#: every case and its time does not tell which names exist (a test keeps the parameters current).
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$eb3TblStYZ6lEnwGq03kIQ$Ccu8GfxcA14tIG04KTIsN9+uUeLqJ1VqjP9fa9Zdcs0"

#: The bare words of the most common passwords (NCSC's and NordPass's yearly top lists), with the
#: Indonesian ones (bismillah, sayang, rahasia: "secret", katasandi: "password") and this
#: system's own words, compared with the digits and symbols around them removed.
COMMON_WORDS = frozenset(
    {
        "password", "passw", "pass", "qwerty", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abc", "abcdef",
        "abcdefghijkl", "admin", "administrator", "welcome", "letmein", "iloveyou", "monkey", "dragon",
        "football", "sunshine", "princess", "master", "secret", "login", "user", "changeme", "test",
        "indonesia", "jakarta", "bismillah", "sayang", "sayangku", "rahasia", "katasandi", "bpbd", "banjir",
        "tepi", "siaga",
    }
)
#: Keyboard rows and sequences: a password that is a stretch of one (either way) is refused.
RUNS = ("01234567890123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn")


def normalise(password: str) -> str:
    """The form that is hashed and compared: NFKC, nothing stripped (spaces are characters too)."""
    return unicodedata.normalize("NFKC", password)


def _bare(text: str) -> str:
    """Letters only, case-folded: what is left of `Password123!` is `password`."""
    return "".join(ch for ch in text.casefold() if ch.isalpha())


def password_problem(password: str, user_name: str) -> str | None:
    """Why `password` is refused for the user named `user_name`, or None when it is acceptable."""
    password = normalise(password)
    if len(password) < MIN_PASSWORD_CHARS:
        return f"a password needs at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"a password has at most {MAX_PASSWORD_CHARS} characters"
    if len(set(password.casefold())) < MIN_DISTINCT_CHARS:
        return f"a password needs at least {MIN_DISTINCT_CHARS} different characters"
    if password.isdigit():  # Indonesian mobile numbers have 11 to 13 digits
        return "a password of digits only (a phone number, a date) is among the first guesses; use words"
    folded = password.casefold()
    if built_on_common_words(_bare(password)) or any(folded in run or folded[::-1] in run for run in RUNS):
        return "that password is among the most common ones; choose another"
    if any(part in _bare(password) for part in _name_parts(user_name)):
        return "a password must not contain the user's name"
    return None


def built_on_common_words(letters: str) -> bool:
    """Whether `letters` is nothing but `COMMON_WORDS` one after another: one word
    ("password"), one repeated ("passwordpassword") or several joined ("adminpassword"). A
    guesser tries exactly these before anything else; a word among other words is not refused
    ("kopi tubruk admin enak" stays a passphrase)."""
    if not letters:
        return False
    longest = max(map(len, COMMON_WORDS))
    # ends[i]: letters[:i] is common words end to end (word break, O(len × longest word)).
    ends = [True] + [False] * len(letters)
    for i in range(1, len(letters) + 1):
        ends[i] = any(ends[j] and letters[j:i] in COMMON_WORDS for j in range(max(0, i - longest), i))
    return ends[-1]


def _name_parts(user_name: str) -> list[str]:
    """The name as letters (`Petugas Pusdalops` -> `petugaspusdalops`) and its words of 4 letters or more."""
    name = unicodedata.normalize("NFKC", user_name)
    words = [_bare(w) for w in name.replace("-", " ").replace("_", " ").replace(".", " ").split()]
    whole = _bare(name)
    return [p for p in {whole, *words} if len(p) >= 4 or p == whole and len(p) >= 3]


def check_password(password: str, user_name: str) -> None:
    """`InvalidInput` saying why, when `password_problem` finds one."""
    problem = password_problem(password, user_name)
    if problem is not None:
        raise InvalidInput(problem)


def hash_password(password: str) -> str:
    """The PHC string to store (Argon2id, RFC 9106 low-memory profile, a fresh random salt)."""
    return HASHER.hash(normalise(password))


def verify_hash(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored`; with no stored hash, the same work against
    `DUMMY_HASH` and False. A malformed stored hash is a mismatch, never an error."""
    try:
        return HASHER.verify(stored or DUMMY_HASH, normalise(password)) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with other parameters than today's (replace it at sign-in)."""
    try:
        return HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True
