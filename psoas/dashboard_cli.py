"""``psoas dashboard``: serve the Dash app over a store (or the demo store), safely bound."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import platformdirs

from psoas.console import count_progress, err, out
from sensors.errors import UsageError
from sensors.store import store_exists
from sensors.store.home import resolve_home
from sensors.timeutil import local_today

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEMO_WEEKS = 12


def demo_home() -> Path:
    """Where ``--demo`` keeps its store (built once, reused)."""
    return Path(platformdirs.user_cache_dir("psoas", appauthor=False)) / "demo-store"


def run_dashboard(
    home: Path | None, *, host: str, port: int, token: str | None, demo: bool
) -> None:
    token = token or os.environ.get("PSOAS_DASHBOARD_TOKEN") or None
    if host not in LOOPBACK:
        if not token:
            raise UsageError(
                f"--host {host} would show your health data to the network: give --token "
                f"(or set PSOAS_DASHBOARD_TOKEN), or bind 127.0.0.1"
            )
        err.print(
            f"[bold yellow]warning:[/] the dashboard listens on {host}:{port}; every request "
            f"must carry the token (open http://{host}:{port}/?token=…)"
        )
    if demo:
        store_home = home or demo_home()
        if not store_exists(store_home):
            _build_demo(store_home)
    else:
        store_home = resolve_home(home)
        if not store_exists(store_home):
            raise UsageError(
                f"no psoas store at {store_home}; import or collect data first, or try "
                f"`psoas dashboard --demo`"
            )
    from dashboard.app import serve

    out.print(f"dashboard: http://{host}:{port}/  (store {store_home}; Ctrl-C stops it)")
    serve(store_home, port=port, host=host, token=token)


def _build_demo(store_home: Path) -> None:
    from psoas.demo_store import build_demo_store

    last = local_today() - dt.timedelta(days=1)
    tmp = store_home.with_name(store_home.name + ".building")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    with count_progress("building the demo store") as progress:
        task = progress.add_task(f"simulating {DEMO_WEEKS} weeks", total=7 * DEMO_WEEKS)

        def show(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        build_demo_store(tmp, weeks=DEMO_WEEKS, last_day=last, progress=show)
    tmp.rename(store_home)  # a half-built demo store is never opened
