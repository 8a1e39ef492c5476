"""The exact bytes of every ingested file, kept beside the store so it can be rebuilt (issue 8).

``<db>.uploads/<sha256>`` holds each file's bytes once, however often it was ingested; it is
written (atomically, fsynced) before the ingest's transaction commits, and removed again when
that ingest fails. ``manifest.jsonl`` there gets one line per committed upload (the row of
``uploads``), so a store can be rebuilt even when its database file is lost.

These bytes hold names, e-mails and phones in clear: the folder is owner-only (0700, files 0600)
and carries its own ``.gitignore``. ``FUNNEL_KEEP_RAW=0`` keeps nothing (and gives up rebuilds).

The folder is also the one place DuckDB may read files from (see ``store.connect``): a file being
read is staged in a private ``tmp-*`` folder inside it, deleted once read.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from funnel.store import address

MANIFEST = "manifest.jsonl"
SHA256 = re.compile(r"[0-9a-f]{64}")
STALE_SECONDS = 3600  # a staging folder or partial file this old belongs to a killed process


def keep_enabled() -> bool:
    """False when ``$FUNNEL_KEEP_RAW`` says 0 / false / no / off."""
    value = os.environ.get("FUNNEL_KEEP_RAW", "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def folder(db_path: str | Path) -> Path:
    """``<db>.uploads`` as an absolute path (the store file need not exist yet); a lake store's
    beside its data folder or catalog file (store.address)."""
    db = address.home(db_path).expanduser().absolute()
    return db.with_name(db.name + ".uploads")


def ensure_folder(root: Path) -> Path:
    """Create the folder owner-only (and tighten it if it exists), git-ignored from inside."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if root.stat().st_mode & 0o077:
        os.chmod(root, 0o700)
    ignore = root / ".gitignore"
    if not ignore.exists():
        _write_private(ignore, b"# raw uploads hold personal data: never commit them\n*\n")
    return root


def raw_path(root: Path, sha256: str) -> Path:
    if not SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return root / sha256


def keep(root: Path, source: bytes | Path, sha256: str) -> tuple[Path, bool]:
    """Store ``source`` (bytes, or a file copied in pieces) as ``root/<sha256>`` unless already
    there: (path, written now)."""
    path = raw_path(ensure_folder(root), sha256)
    size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
    if path.is_file() and path.stat().st_size == size:
        return path, False
    _write_private(path, source)
    return path, True


def discard(path: Path | None) -> None:
    """Remove a kept file whose ingest failed (no partial state outlives a failed upload)."""
    if path is not None:
        path.unlink(missing_ok=True)


def _write_private(path: Path, data: bytes | Path) -> None:
    """Write ``path`` atomically (temp file, fsync, rename), mode 0600, from bytes or a copy of
    a file (in pieces: the file is never held whole)."""
    part = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                with open(data, "rb") as src:
                    shutil.copyfileobj(src, out)  # 64 KB at a time
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def staging_dir(root: Path | None) -> Iterator[Path]:
    """A private temp folder inside ``root`` (or the system's temp dir), deleted afterwards."""
    if root is not None:
        ensure_folder(root)
        sweep(root)
    tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=root))  # mkdtemp makes it 0700
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sweep(root: Path, older_than: float = STALE_SECONDS) -> None:
    """Delete staging folders and partial files left by a process that was killed."""
    limit = time.time() - older_than
    for entry in root.iterdir():
        stale_name = entry.name.startswith("tmp-") or entry.name.endswith(".part")
        with contextlib.suppress(OSError):
            if stale_name and entry.stat().st_mtime < limit:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()


def record(root: Path, entry: dict) -> None:
    """Append one committed upload to the manifest (fsynced)."""
    ensure_folder(root)
    path = root / MANIFEST
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry, default=str, sort_keys=True) + "\n")
        out.flush()
        os.fsync(out.fileno())


def write_manifest(root: Path, entries: list[dict]) -> None:
    """Replace the manifest with ``entries`` (after a rebuild renumbered the uploads)."""
    ensure_folder(root)
    text = "".join(json.dumps(e, default=str, sort_keys=True) + "\n" for e in entries)
    _write_private(root / MANIFEST, text.encode("utf-8"))


def retire_manifest(root: Path) -> None:
    """A new, empty store at this path: set the old manifest aside (its uploads are not in the
    new store); the kept bytes stay, for any upload of them again."""
    path = root / MANIFEST
    if path.exists():
        os.replace(path, root / f"manifest-before-{time.strftime('%Y%m%d-%H%M%S')}.jsonl")


def read_manifest(root: Path) -> list[dict]:
    """The manifest's uploads, oldest first; a torn last line (a kill mid-append) is skipped."""
    path = root / MANIFEST
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            entries.append(json.loads(line))
    return sorted(entries, key=lambda e: int(e.get("upload_id") or 0))


def sweep_orphans(root: Path, known: set[str], older_than: float = STALE_SECONDS) -> list[str]:
    """Delete kept bytes no upload of the store names (a process killed between keeping a
    file and committing its upload left them: they hold leads in clear); the sha256s gone."""
    if not root.is_dir():
        return []
    limit = time.time() - older_than
    gone = []
    for entry in root.iterdir():
        with contextlib.suppress(OSError):
            if (SHA256.fullmatch(entry.name) and entry.name not in known
                    and entry.stat().st_mtime < limit):
                entry.unlink()
                gone.append(entry.name)
    return gone


def listed_sha256(root: Path) -> set[str]:
    """The sha256s any manifest in ``root`` lists, retired ones included (a lost store's
    uploads are still wanted for a rebuild)."""
    found: set[str] = set()
    if not root.is_dir():
        return found
    for path in root.glob("manifest*.jsonl"):
        with contextlib.suppress(OSError):
            for line in path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError, AttributeError):
                    found.add(str(json.loads(line).get("sha256")))
    return found
