"""The tokens of upload URLs: unguessable, and recognisable once spent.

A token is a random nonce from `secrets`, never from the seeded id generator: nobody can derive it
from the seed, and the seeded ids and results are the same whatever tokens were handed out. The
nonce is followed by a signature made with the store's key (`Store.upload_token_key`), so once
the store has forgotten an upload (used, abandoned or expired) the emulator can still tell a token
it issued (403: spent) from one it never issued (404). The key lives as long as the store: across
resets, across restarts on a persistent store, and in every process sharing one store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

NONCE_BYTES = 16
SIGNATURE_BYTES = 16


def _text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class UploadTokens:
    """Issues upload-URL tokens and recognises the ones it issued."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(self) -> str:
        """A new token: `<nonce>.<signature>`, URL-safe."""
        nonce = _text(secrets.token_bytes(NONCE_BYTES))
        return f"{nonce}.{self._sign(nonce)}"

    def issued(self, token: str) -> bool:
        """Whether this engine issued `token` (whether or not its upload is still pending)."""
        nonce, dot, signature = token.partition(".")
        return bool(dot) and hmac.compare_digest(signature.encode("utf-8", "replace"), self._sign(nonce).encode())

    def _sign(self, nonce: str) -> str:
        return _text(hmac.new(self._key, nonce.encode("utf-8", "replace"), hashlib.sha256).digest()[:SIGNATURE_BYTES])
