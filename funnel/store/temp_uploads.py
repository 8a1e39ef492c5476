"""Where a file dropped on the Upload page waits, in clear, until it is loaded (issue 16).

Each process gets its own folder, ``<tmp>/funnel-uploads-<uid>/<pid>``, owner-only (0700, files
0600); a folder there that another account owns, or that others may read, is refused rather
than used. A file waits there only while a script run uses it (:func:`kept`, a context
manager whose ``finally`` forgets it: loaded, refused, an unexpected error, or the tab closed
mid-load, which Streamlit ends by raising inside the run); folders of processes that are gone
(a server killed mid-load) are swept when a process first keeps a file.
The one copy Funnel keeps after a load is the owner-only ``<db>.uploads/<sha256>``
(funnel.store.raw_uploads).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

_swept = False


class TempFolderError(RuntimeError):
    """The temp folder for uploads exists but is not this account's own, private one."""


def base() -> Path:
    """``<tmp>/funnel-uploads-<uid>``: this account's folder of per-process folders."""
    return Path(tempfile.gettempdir()) / f"funnel-uploads-{os.getuid()}"


def folder() -> Path:
    """This process's private folder (made 0700 if missing; refused if not ours or not
    private), after sweeping the folders of processes that are gone."""
    global _swept
    root = _private_dir(base())
    if not _swept:
        sweep(root)
        _swept = True
    return _private_dir(root / str(os.getpid()))


def keep(data: bytes, name: str) -> tuple[str, Path]:
    """Write an uploaded file's bytes into a folder of its own in this process's folder:
    (sha256, path). Each call gets its own folder (0700), so two sessions with the same file
    never forget each other's copy."""
    sha = hashlib.sha256(data).hexdigest()
    where = Path(tempfile.mkdtemp(prefix=f"{sha[:16]}-", dir=folder()))
    safe = re.sub(r"[^A-Za-z0-9._ -]+", "_", Path(name).name).strip() or "upload.csv"
    path = where / safe
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return sha, path


@contextlib.contextmanager
def kept(data: bytes, name: str) -> Iterator[tuple[str, Path]]:
    """:func:`keep` for as long as the block runs, then :func:`forget`, whatever ends it."""
    sha, path = keep(data, name)
    try:
        yield sha, path
    finally:
        forget(path)


def forget(path: Path) -> None:
    """Delete a kept file and its folder (its upload ended: loaded, refused or dropped)."""
    shutil.rmtree(path.parent, ignore_errors=True)


def sweep(root: Path) -> None:
    """Delete the folders of processes that no longer run (they can no longer load them)."""
    for entry in root.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and not _alive(int(entry.name)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's process: alive, not ours to judge
        return True
    return True


def _private_dir(path: Path) -> Path:
    """``path`` as a directory only this account can enter: made 0700 if missing; refused when
    it is a link, another account's, or open to others (it would hold leads in clear)."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise TempFolderError(f"{path} is not a folder of Funnel's: remove it and try again")
    if info.st_uid != os.getuid():
        raise TempFolderError(
            f"{path} belongs to another account: uploads cannot wait there in private. Remove "
            "it (or set TMPDIR to a folder of your own) and try again."
        )
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path
