"""Routine programs the user added: TOML files in ``<home>/programs/<name>.toml``.

The store only keeps the text (written atomically, 0600, like every file of the store); parsing
and validation are ``analysis/routine.py``'s. The active program's name is the catalog meta key
:data:`ACTIVE_PROGRAM_KEY`; without one the built-in default is active.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from sensors.errors import UsageError
from sensors.store.home import make_private_dir, write_atomically

ACTIVE_PROGRAM_KEY: Final = "routine_program"
NAME_PATTERN: Final = re.compile(r"[a-z][a-z0-9_-]{0,63}")


def programs_dir(home: Path) -> Path:
    return home / "programs"


def check_name(name: str) -> str:
    """``name`` if it can be a program file name (no path: ``../x`` is refused)."""
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(
            f"program name {name!r}: use lower-case letters, digits, '_' or '-' (at most 64, "
            f"starting with a letter)"
        )
    return name


def program_names(home: Path) -> list[str]:
    """Names of the programs stored in ``home``, sorted."""
    folder = programs_dir(home)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml") if NAME_PATTERN.fullmatch(p.stem))


def read_program_text(home: Path, name: str) -> str | None:
    """The stored TOML text of program ``name``, or ``None`` when there is none."""
    path = programs_dir(home) / f"{check_name(name)}.toml"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def write_program_text(home: Path, name: str, text: str) -> Path:
    """Store ``text`` as program ``name``: the file holds either its old or its new text."""
    folder = programs_dir(home)
    make_private_dir(folder)
    path = folder / f"{check_name(name)}.toml"
    write_atomically(path, lambda handle: handle.write(text.encode("utf-8")))
    return path
