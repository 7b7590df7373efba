"""Password hashing for back-office users: Argon2id (argon2-cffi's defaults, RFC 9106's second
recommended parameter set), the hash string carrying its own salt and parameters."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
#: Shortest password ``snipshop user create`` accepts.
MIN_PASSWORD_LENGTH = 10
#: Verified against when the username is unknown, so that an unknown name takes as long as a wrong
#: password (the answer's timing does not tell which names exist).
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (None: an unknown user, always False, as slow)."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
