"""Personal data: e-mails and phones are kept only as a keyed hash (HMAC-SHA256), SPEC 6.

The key lives outside the database file: ``$FUNNEL_PII_KEY``, else a key file next to the
store (``<db>.key``, created on first use with owner-only permissions, git-ignored). The HMAC is
computed inside DuckDB from the key's inner and outer pads, passed as bound parameters.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from funnel.store import address

BLOCK = 64  # SHA-256 block size in bytes
HASH_CHARS = 32  # hex characters kept: 128 bits


class KeyFileError(RuntimeError):
    """The key file beside the store is empty or damaged."""


def key_path(db_path: Path) -> Path:
    """``<db>.key``; a lake store's beside its data folder or catalog file (store.address)."""
    home = address.home(db_path)
    return home.with_name(home.name + ".key")


def load_key(db_path: Path) -> bytes:
    """The HMAC key for this store, created on first use."""
    env = os.environ.get("FUNNEL_PII_KEY")
    if env:
        return env.encode("utf-8")
    path = key_path(db_path)
    if path.exists():
        text = path.read_text(encoding="ascii", errors="replace").strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) < 16:  # an empty or cut key would hash every e-mail almost in clear
            raise KeyFileError(
                f"{path} holds no usable key ({len(key)} bytes; a key is 32 random bytes in "
                "hex). Put the store's own key back (from a backup), or set FUNNEL_PII_KEY."
            )
        return key
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex())
    return key


def hmac_pads(key: bytes) -> dict[str, bytes]:
    """Bound parameters ``$hmac_inner`` / ``$hmac_outer`` for HMAC-SHA256 in SQL."""
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    return {
        "hmac_inner": bytes(b ^ 0x36 for b in key),
        "hmac_outer": bytes(b ^ 0x5C for b in key),
    }


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a normalised value, hex, shortened to 128 bits (same as the SQL)."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:HASH_CHARS]
