"""Identity keys are stored sealed: they open only with the secret and for the badge they were
sealed for, and the secret itself is checked against the mode as the API's secrets are."""

from __future__ import annotations

import pytest

from kinds.badge.keys import DEMO_SECRET, SECRET_ENV, BadgeKeyError, KeySeal, new_identity_key, secret_from_environment

SECRET = "a-production-secret-of-enough-length-0123456789"


def test_a_sealed_key_opens_with_the_same_secret_for_the_same_badge_only() -> None:
    key = new_identity_key()
    sealed = KeySeal(SECRET).seal(key, "b0123456789ab")

    assert key not in sealed, "the key is not stored in the clear"
    assert KeySeal(SECRET).open(sealed, "b0123456789ab") == key
    with pytest.raises(BadgeKeyError, match="does not open with this TEPI_BADGE_KEY_SECRET"):
        KeySeal(SECRET + "-other").open(sealed, "b0123456789ab")
    with pytest.raises(BadgeKeyError, match="does not open"):
        KeySeal(SECRET).open(sealed, "b0123456789ac")  # copied onto another badge's row
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(BadgeKeyError, match="does not open"):
        KeySeal(SECRET).open(altered, "b0123456789ab")
    with pytest.raises(BadgeKeyError, match="not in a sealed form"):
        KeySeal(SECRET).open(sealed[:-2], "b0123456789ab")


def test_two_seals_of_one_key_differ_and_keys_are_fresh() -> None:
    seal, key = KeySeal(SECRET), new_identity_key()
    assert seal.seal(key, "b0123456789ab") != seal.seal(key, "b0123456789ab")  # a fresh nonce each time
    assert len(key) == 16 and new_identity_key() != key
    with pytest.raises(ValueError, match="16 bytes"):
        seal.seal(key[:8], "b0123456789ab")
    assert SECRET not in repr(seal)


def test_the_secret_is_required_outside_demo_mode_and_the_demo_one_refused() -> None:
    with pytest.raises(BadgeKeyError, match=f"{SECRET_ENV} is required outside demo mode"):
        secret_from_environment({})
    with pytest.raises(BadgeKeyError, match="public demo value"):
        secret_from_environment({SECRET_ENV: DEMO_SECRET})
    with pytest.raises(BadgeKeyError, match="at least 32 characters"):
        secret_from_environment({SECRET_ENV: "short"})
    assert secret_from_environment({SECRET_ENV: SECRET}) == SECRET
    assert secret_from_environment({"TEPI_MODE": "demo"}) == DEMO_SECRET
    assert secret_from_environment({"TEPI_MODE": "demo", SECRET_ENV: SECRET}) == SECRET
    key = new_identity_key()
    sealed = KeySeal.from_environment({"TEPI_MODE": "demo"}).seal(key, "b0123456789ab")
    with pytest.raises(BadgeKeyError):  # a key sealed in the demo does not open in production
        KeySeal.from_environment({SECRET_ENV: SECRET}).open(sealed, "b0123456789ab")
