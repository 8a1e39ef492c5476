"""Personal data: e-mails and phones are kept only as a keyed hash (HMAC-SHA256), SPEC 6.

The key lives outside the database file: ``$FUNNEL_PII_KEY``, else a key file next to the
store (``<db>.key``, created on first use with owner-only permissions, git-ignored).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import duckdb
import pyarrow as pa


def key_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".key")


def load_key(db_path: Path) -> bytes:
    """The HMAC key for this store, created on first use."""
    env = os.environ.get("FUNNEL_PII_KEY")
    if env:
        return env.encode("utf-8")
    path = key_path(db_path)
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex())
    return key


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a normalised value, hex, shortened to 32 characters (128 bits)."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def register(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Make ``funnel_pii_hash(VARCHAR) -> VARCHAR`` available on this connection."""

    def udf(values: pa.Array) -> pa.Array:
        if values.null_count == len(values):
            return pa.nulls(len(values), pa.string())
        return pa.array(
            [None if v is None else keyed_hash(key, v) for v in values.to_pylist()], pa.string()
        )

    with contextlib.suppress(Exception):  # not registered yet on this connection
        con.remove_function("funnel_pii_hash")
    con.create_function(
        "funnel_pii_hash", udf, ["VARCHAR"], "VARCHAR", type="arrow", null_handling="special"
    )
