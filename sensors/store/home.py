"""Where the store lives and how its files are protected (this is health data).

The home is ``--home`` if given, else ``$PSOAS_HOME``, else the platform's user data directory
(platformdirs). Directories are created 0700 and files 0600.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import platformdirs

from sensors.errors import StoreError

DIR_MODE = 0o700
TMP_PREFIX = ".tmp-"
"""Name start of a file being written (a crash leaves it behind; the next open removes it)."""
FILE_MODE = 0o600


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The store's home directory: ``home``, else ``$PSOAS_HOME``, else the user data dir."""
    if home is not None:
        return Path(home).expanduser()
    env = os.environ.get("PSOAS_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("psoas", appauthor=False))


def make_private_dir(path: Path) -> list[Path]:
    """Create ``path`` (and missing parents) with mode 0700; return the directories it created."""
    created: list[Path] = []
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise StoreError(f"cannot create {d}: {exc.strerror}; check the permissions") from exc
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask
        created.append(d)
    return created


def open_private_file(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_EXCL) -> int:
    """Open ``path`` with mode 0600 and return the file descriptor."""
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def fsync_dir(path: Path) -> None:
    """fsync a directory so that a rename inside it survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Run ``write`` on a private temporary file beside ``path``, fsync it, rename it onto
    ``path`` and fsync the directory: ``path`` then holds either its old content or all of the
    new, even after a crash. A temporary file left by a crash starts with ``TMP_PREFIX``."""
    tmp = path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}{path.suffix}")
    try:
        with os.fdopen(open_private_file(tmp), "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
