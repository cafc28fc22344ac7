"""How secrets are shown outside their own tenant's requests: API keys as fingerprints, secret
fields of request bodies masked.

The journal and the control plane are read by whoever runs the tests (and, on a shared server, by
anyone with the admin token), so they never show a key or a token in full. A fingerprint names a
secret without giving it away: two requests with the same key show the same fingerprint, and a test
holding the key can compute it (`key_fingerprint`) or simply filter the journal by the key.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

SHOWN_PREFIX = 4  # leading characters of a long key a fingerprint shows
LONG_KEY = 12  # keys shorter than this show none of their characters


@functools.lru_cache(maxsize=1024)  # every request's key is fingerprinted for the journal
def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", errors="surrogatepass")).hexdigest()[:8]


def key_fingerprint(key: str) -> str:
    """`key-<first 4>…<sha256[:8]>` (`key-…<sha256[:8]>` for a key shorter than 12 characters, so a
    short key is never shown in large part)."""
    shown = key[:SHOWN_PREFIX] if len(key) >= LONG_KEY else ""
    return f"key-{shown}…{_digest(key)}"


def masked(secret: str) -> str:
    """What the journal shows instead of a secret value in a body: `secret-…<sha256[:8]>`."""
    return f"secret-…{_digest(secret)}"


def is_secret_field(name: str) -> bool:
    """Field names whose string values are secrets: any name holding `token` or `api_key` (any case,
    `-` read as `_`, `apikey` too), e.g. `external_api_token`, `api_key`, `X-Api-Key`, `access_token`;
    and `upload_id`, a multipart upload's token."""
    folded = name.lower().replace("-", "_")
    return "token" in folded or "api_key" in folded or "apikey" in folded or folded == "upload_id"


def mask_secrets(value: Any) -> Any:
    """`value` (parsed JSON) with the string value of every secret field masked, at any depth.
    Numbers (`max_tokens`) and nulls are not secrets and are kept; the input is not changed."""
    if isinstance(value, dict):
        return {
            key: masked(item) if isinstance(item, str) and is_secret_field(key) else mask_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value


def has_secrets(value: Any) -> bool:
    """Whether `mask_secrets` would change anything in `value`."""
    if isinstance(value, dict):
        return any((isinstance(item, str) and is_secret_field(key)) or has_secrets(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_secrets(item) for item in value)
    return False
