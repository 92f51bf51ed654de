"""What every command shares: the global options (``--home``) and opening the store."""

from __future__ import annotations

from pathlib import Path

from sensors.store import Store


class State:
    home: Path | None = None


state = State()


def open_store() -> Store:
    """The store of ``--home`` (else ``$PSOAS_HOME``, else the user data directory)."""
    return Store.open(state.home)
