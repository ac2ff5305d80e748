"""Secrets: argon2id password hashes, and random session ids and API tokens stored as SHA-256 hashes."""
from __future__ import annotations

import functools
import hashlib
import secrets

import argon2
from flask_babel import gettext as _

# OWASP's argon2id minimum is m=19 MiB, t=2, p=1; one more pass costs ~35 ms a sign-in here.
HASHER = argon2.PasswordHasher(time_cost=3, memory_cost=19_456, parallelism=1)
MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 takes any length; the bound keeps a sign-in's cost predictable
TOKEN_PREFIX = "eduops_"


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return HASHER.check_needs_rehash(password_hash)


@functools.cache
def dummy_hash() -> str:
    """Verified against when the username is unknown, so timing does not tell which names exist."""
    return HASHER.hash(secrets.token_urlsafe(16))


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, in a sentence for the person choosing it, or None."""
    if len(password) < MIN_LENGTH:
        return _("The password must have at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("The password must have at most %(n)d characters.", n=MAX_LENGTH)
    if password.strip() != password:
        return _("The password must not begin or end with a space.")
    return None


def generate_password() -> str:
    """A password for a new or reset account: 16 characters, about 95 bits."""
    return secrets.token_urlsafe(12)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    # The prefix lets secret scanners and people recognise what leaked.
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """SHA-256 suffices for random 256-bit secrets: there is nothing to guess, only to look up."""
    return hashlib.sha256(secret.encode()).hexdigest()
