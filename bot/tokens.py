"""Meta tokens at rest: Fernet-encrypted, shown only as a short fingerprint."""

from __future__ import annotations

import hashlib

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from bot.errors import ConfigError, InvalidInput

MAX_TOKEN_LENGTH = 2048


def new_secret_key() -> str:
    """A fresh key for PIXELBOT_SECRET_KEY."""
    return Fernet.generate_key().decode()


def fingerprint(token: SecretStr) -> str:
    """A short, one-way name for a token: `sha256:` and the first 12 hex digits.

    Operators can compare it with `printf %s "$TOKEN" | sha256sum` without revealing it.
    """
    digest = hashlib.sha256(token.get_secret_value().encode()).hexdigest()
    return f"sha256:{digest[:12]}"


def clean_token(raw: str) -> SecretStr:
    """Validate a token read from an env var or stdin; whitespace around it is dropped."""
    token = raw.strip()
    if not token:
        raise InvalidInput("the token is empty")
    if len(token) > MAX_TOKEN_LENGTH or any(c.isspace() or not c.isprintable() for c in token):
        raise InvalidInput("that does not look like an access token (spaces or over 2048 chars)")
    return SecretStr(token)


class TokenBox:
    """Encrypts and decrypts tokens with the PIXELBOT_SECRET_KEY."""

    def __init__(self, key: SecretStr) -> None:
        self._fernet = Fernet(key.get_secret_value().encode())

    def seal(self, token: SecretStr) -> bytes:
        """The ciphertext to store."""
        return self._fernet.encrypt(token.get_secret_value().encode())

    def open(self, ciphertext: bytes) -> SecretStr:
        """The token back; a `ConfigError` if it was sealed with another key."""
        try:
            return SecretStr(self._fernet.decrypt(ciphertext).decode())
        except InvalidToken:
            raise ConfigError(
                "a stored token cannot be decrypted: PIXELBOT_SECRET_KEY is not the key it "
                "was stored with"
            ) from None
