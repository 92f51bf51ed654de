"""The ``psoas`` command line: composes sensors, analysis and dashboard; holds no logic of its own.

Errors a user can act on (:class:`PsoasError`) are printed as one line without a traceback and the
command exits non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import click
import typer

from psoas import console
from psoas.cohort_cli import cohort_app
from psoas.console import err, human_bytes, local_time
from psoas.context import open_store, state
from psoas.routine_cli import routine_app
from sensors.errors import PsoasError, UsageError
from sensors.importers import ImportOptions
from sensors.importers.base import SENSOR_HEIGHT_RANGE_M
from sensors.schema import EXPORT_TABLES, PLACEMENTS
from sensors.store import store_exists
from sensors.timeutil import parse_day, system_tz, zone

app = typer.Typer(
    name="psoas",
    help="Local-first analysis of wearable data: prolonged sitting, stride length, psoas routine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Store directory (default: $PSOAS_HOME, else the user data directory)."
    ),
]


@app.callback()
def _global(
    home: HomeOption = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    state.home = home
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not debug:
        # bumble reports every late packet of a link that just dropped; psoas handles those
        logging.getLogger("bumble").setLevel(logging.ERROR)


_open_store = open_store
app.add_typer(routine_app, name="routine")
app.add_typer(cohort_app, name="cohort")


@app.command("import")
def import_(
    paths: Annotated[
        list[Path], typer.Argument(help="Files, folders (searched recursively) or glob patterns.")
    ],
    device: Annotated[
        str | None, typer.Option(help="Device id (default: from the file name).")
    ] = None,
    placement: Annotated[
        str, typer.Option(help=f"Where the sensor was worn: {', '.join(PLACEMENTS)}.")
    ] = "unknown",
    tz: Annotated[
        str | None, typer.Option(help="IANA time zone of the wearer (default: this machine's).")
    ] = None,
    sensor_height: Annotated[
        float | None,
        typer.Option("--sensor-height", help="Sensor height above ground, metres (lower back)."),
    ] = None,
    acc_unit: Annotated[
        str | None, typer.Option(help="Accelerometer unit: g or mps2 (default: detect).")
    ] = None,
    gyro_unit: Annotated[
        str | None, typer.Option(help="Gyroscope unit: dps or rads (default: detect).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and check the files; write nothing.")
    ] = False,
) -> None:
    """Import files (FIT, Axivity CWA, GENEActiv BIN, Apple Health export, CSV); an imported
    file is skipped."""
    if acc_unit not in (None, "g", "mps2"):
        raise UsageError(f"--acc-unit {acc_unit!r}: use g or mps2")
    if gyro_unit not in (None, "dps", "rads"):
        raise UsageError(f"--gyro-unit {gyro_unit!r}: use dps or rads")
    if placement not in PLACEMENTS:
        raise UsageError(f"--placement {placement!r}: use one of {', '.join(PLACEMENTS)}")
    low_m, high_m = SENSOR_HEIGHT_RANGE_M
    if sensor_height is not None and not low_m <= sensor_height <= high_m:
        raise UsageError(
            f"--sensor-height {sensor_height}: give the height in metres ({low_m:g}-{high_m:g})"
        )
    zone_name = tz or system_tz()
    zone(zone_name)
    options = ImportOptions(
        device_id=device,
        placement=placement,
        tz=zone_name,
        sensor_height_m=sensor_height,
        acc_unit=acc_unit,
        gyro_unit=gyro_unit,
    )
    from psoas.importing import import_paths

    if dry_run and not store_exists(state.home):  # nothing to compare with; create nothing
        import_paths(None, paths, options, dry_run=True)
        return
    with _open_store() as store:
        import_paths(store, paths, options, dry_run=dry_run)


@app.command()
def analyze(
    since: Annotated[
        str | None, typer.Option(help="Re-analyse every day from this day on (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Analyse the device-days that received new data (or every day from --since)."""
    from analysis.pipeline import analyze as run_analysis

    since_day = parse_day(since) if since else None
    with _open_store() as store, console.count_progress("analysing") as progress:
        task = progress.add_task("analysing", total=None)

        def on_day(device_id: str, day: str) -> None:
            progress.update(task, description=f"analysing {device_id} {day}", advance=1)

        report = run_analysis(store, since=since_day, on_day=on_day)
    err.print(f"analysed {len(report.device_days)} device-day(s)")
    from psoas.sitting_report import print_sitting_days

    with _open_store() as store:
        print_sitting_days(store, report.device_days)


@app.command()
def alerts(
    day: Annotated[str | None, typer.Option(help="Only this local day (YYYY-MM-DD).")] = None,
    device: Annotated[str | None, typer.Option(help="Only this device.")] = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="Set the alert: minutes of sitting without a break (15-120)."),
    ] = None,
    repeat: Annotated[
        float | None,
        typer.Option(help="Set: alert again every N more minutes of sitting (0 = once)."),
    ] = None,
) -> None:
    """List sitting-streak alerts, or set after how many minutes of sitting they fire."""
    from psoas.sitting_report import print_alerts, set_alert_rules

    if day is not None:
        day = parse_day(day).isoformat()
    with _open_store() as store:
        if threshold is not None or repeat is not None:
            set_alert_rules(store, threshold, repeat)
            return
        print_alerts(store, day, device)


@app.command()
def trends(
    device: Annotated[str | None, typer.Option(help="Only this device.")] = None,
    compare: Annotated[
        str | None,
        typer.Option(help="Compare two ISO weeks, e.g. 2026-W10,2026-W14 (week B minus A)."),
    ] = None,
) -> None:
    """Stride length week against week at comparable pace, with intervals and the trend."""
    from psoas.trends_report import parse_compare, print_trends

    weeks = parse_compare(compare)
    with _open_store() as store:
        print_trends(store, device, weeks)


@app.command()
def insights(
    start_day: Annotated[
        str | None,
        typer.Option(help="Day the routine started (default: found from the log)."),
    ] = None,
    table: Annotated[
        str | None, typer.Option(help="Print a table as CSV: daily, weekly or associations.")
    ] = None,
) -> None:
    """How sitting, stride and symptoms moved with the routine: effects with 95 % intervals."""
    from psoas.insights_report import print_insights

    with _open_store() as store:
        print_insights(store, parse_day(start_day).isoformat() if start_day else None, table)


@app.command()
def export(
    table: Annotated[str, typer.Argument(help=f"One of: {', '.join(EXPORT_TABLES)}.")],
    format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    out: Annotated[str, typer.Option("--out", help="File to write, or - for stdout.")] = "-",
    device: Annotated[str | None, typer.Option(help="Only this device.")] = None,
) -> None:
    """Export a table (raw samples included) as CSV or Parquet."""
    from psoas.export import export as run_export

    with _open_store() as store:
        rows = run_export(store, table, format, out, device)
    if out != "-":
        err.print(f"wrote {rows:,} rows of {table} to {out}")


@app.command()
def status() -> None:
    """Show the store: devices, recordings, days, last sync and size."""
    from rich.table import Table

    with _open_store() as store:
        info = store.status()
    console.out.print(f"store: {info['home']} ({human_bytes(info['size_bytes'])})")
    devices = info["devices"]
    if devices.empty:
        console.out.print("no devices yet: `psoas import FILE` or `psoas demo` adds data")
        return
    table = Table(
        "device",
        "kind",
        "placement",
        "tz",
        "recordings",
        "days",
        "samples",
        "metric rows",
        "from",
        "to",
        "last sync",
    )
    for row in devices.itertuples():
        table.add_row(
            row.device_id,
            row.kind,
            row.placement,
            row.tz,
            str(row.recordings),
            str(row.days),
            f"{row.samples:,}",
            f"{row.metric_rows:,}",
            local_time(row.first_t, row.tz),
            local_time(row.last_t, row.tz),
            local_time(row.last_sync_ns, row.tz),
        )
    console.out.print(table)


AdapterOption = Annotated[
    str | None,
    typer.Option(
        "--adapter",
        help="Bluetooth adapter: none = the OS stack (BlueZ/macOS/Windows); "
        "bumble:<transport> = psoas's bumble stack, e.g. bumble:usb:0, "
        "bumble:tcp-client:127.0.0.1:9000, bumble:link:NAME (in-process virtual link).",
    ),
]


@app.command()
def devices(
    adapter: AdapterOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds to scan.")] = 5.0,
) -> None:
    """Scan for psoas IMU wearables and Running Speed and Cadence footpods."""
    from psoas.bluetooth import list_devices

    list_devices(adapter, timeout)


@app.command()
def collect(
    adapter: AdapterOption = None,
    device: Annotated[
        list[str] | None,
        typer.Option("--device", help="Name, address or id; repeat for several devices."),
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="After the sync, stream live for this many seconds.")
    ] = None,
    live: Annotated[bool, typer.Option("--live", help="Stream live until Ctrl-C.")] = False,
    no_delete: Annotated[
        bool, typer.Option("--no-delete", help="Keep the records on the wearable after sync.")
    ] = False,
    placement: Annotated[
        str | None, typer.Option(help="Where the device is worn (default: what it reports).")
    ] = None,
    tz: Annotated[str | None, typer.Option(help="IANA time zone of the wearer.")] = None,
    scan_timeout: Annotated[float, typer.Option(help="Seconds to look for devices.")] = 5.0,
    live_alerts: Annotated[
        bool,
        typer.Option(
            "--live-alerts",
            help="While streaming, print an alert when a sitting streak passes "
            "the threshold (`psoas alerts --threshold`).",
        ),
    ] = False,
) -> None:
    """Sync what the wearable logged since the last sync, then optionally stream live."""
    from psoas.bluetooth import collect as run_collect
    from psoas.bluetooth import live_seconds

    if placement is not None and placement not in PLACEMENTS:
        raise UsageError(f"--placement {placement!r}: use one of {', '.join(PLACEMENTS)}")
    if duration is not None and duration <= 0:
        raise UsageError("--duration must be a positive number of seconds")
    if live_alerts and duration is None and not live:
        raise UsageError("--live-alerts works while streaming: add --live or --duration SECONDS")
    zone_name = tz or system_tz()
    zone(zone_name)
    with _open_store() as store:
        run_collect(
            store,
            adapter,
            device or [],
            tz=zone_name,
            placement=placement,
            live_s=live_seconds(duration, live),
            delete_after_sync=not no_delete,
            scan_timeout_s=scan_timeout,
            live_alerts=live_alerts,
        )


@app.command("simulate-device")
def simulate_device(
    adapter: Annotated[
        str, typer.Option("--adapter", help="bumble:<transport> the virtual wearable uses.")
    ],
    kind: Annotated[str, typer.Option(help="imu or footpod.")] = "imu",
    name: Annotated[str | None, typer.Option(help="Advertised name.")] = None,
    placement: Annotated[str, typer.Option(help="Where the IMU is worn.")] = "thigh",
    days: Annotated[int, typer.Option(help="Days of offline records it holds.")] = 1,
    rate: Annotated[float, typer.Option(help="Sample rate, Hz.")] = 50.0,
    seed: Annotated[int, typer.Option(help="Simulator seed.")] = 0,
    tz: Annotated[str | None, typer.Option(help="Time zone of the simulated wearer.")] = None,
    drop_link_every: Annotated[
        float | None, typer.Option(help="Fault: drop the link every S seconds.")
    ] = None,
    lose_packets: Annotated[float, typer.Option(help="Fault: share of batches lost.")] = 0.0,
    duplicate_packets: Annotated[float, typer.Option(help="Fault: share sent twice.")] = 0.0,
    reorder_packets: Annotated[float, typer.Option(help="Fault: share swapped.")] = 0.0,
) -> None:
    """Run a virtual wearable (bumble GATT server fed by the simulator) until Ctrl-C."""
    import asyncio

    from sensors.ble.wearable import WearableOptions, run_virtual_wearable

    if kind not in ("imu", "footpod"):
        raise UsageError(f"--kind {kind!r}: use imu or footpod")
    if not adapter.startswith("bumble:"):
        raise UsageError(
            "the virtual wearable needs a bumble adapter, e.g. --adapter bumble:link:x"
        )
    for label, p in (
        ("--lose-packets", lose_packets),
        ("--duplicate-packets", duplicate_packets),
        ("--reorder-packets", reorder_packets),
    ):
        if not 0.0 <= p < 1.0:
            raise UsageError(f"{label} {p}: give a probability between 0 and 1")
    options = WearableOptions(
        kind=kind,
        name=name or ("psoas-imu" if kind == "imu" else "psoas-footpod"),
        placement=placement,
        rate_hz=rate,
        drop_link_every_s=drop_link_every,
        lose_packets=lose_packets,
        duplicate_packets=duplicate_packets,
        reorder_packets=reorder_packets,
        seed=seed,
    )
    err.print(f"virtual {kind} {options.name} on {adapter}; Ctrl-C stops it")
    asyncio.run(run_virtual_wearable(adapter, options, days=days, seed=seed, tz=tz or system_tz()))


@app.command("virtual-link")
def virtual_link(
    port: Annotated[
        list[int] | None, typer.Option("--port", help="TCP port per controller (127.0.0.1).")
    ] = None,
) -> None:
    """Run virtual Bluetooth controllers on one link, reachable as bumble:tcp-client:..."""
    import asyncio

    from sensors.ble.virtual_link import serve_virtual_link

    ports = port or [9000, 9001]
    for p in ports:
        err.print(f"controller ready: --adapter bumble:tcp-client:127.0.0.1:{p}")
    asyncio.run(serve_virtual_link(ports))


@app.command()
def dashboard(
    host: Annotated[str, typer.Option(help="Address to bind (default 127.0.0.1).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8050,
    token: Annotated[
        str | None,
        typer.Option(
            help="Required on every request when binding another address (or set "
            "$PSOAS_DASHBOARD_TOKEN); open http://HOST:PORT/?token=TOKEN."
        ),
    ] = None,
    demo_store: Annotated[
        bool,
        typer.Option("--demo", help="Open the multi-week demo store (built on first use)."),
    ] = False,
) -> None:
    """The dashboard: the day, the weeks, the routine, insights and devices, in your browser."""
    from psoas.dashboard_cli import run_dashboard

    run_dashboard(state.home, host=host, port=port, token=token, demo=demo_store)


@app.command()
def demo(
    days: Annotated[int, typer.Option(help="Days to simulate (1 = one workday).")] = 1,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="Do not start the dashboard.")
    ] = False,
    port: Annotated[int, typer.Option(help="Dashboard port on 127.0.0.1.")] = 8050,
    tz: Annotated[str | None, typer.Option(help="Time zone of the simulated wearer.")] = None,
    seed: Annotated[int, typer.Option(help="Simulator seed.")] = 7,
) -> None:
    """Simulate a workday (or N days), ingest, analyse, report, and open the dashboard."""
    from psoas.demo import run_demo

    if not 1 <= days <= 366:
        raise UsageError(f"--days {days}: choose 1 to 366")
    home = state.home or Path("psoas-demo")
    run_demo(
        home, days=days, tz=tz or system_tz(), seed=seed, dashboard=not no_dashboard, port=port
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, standalone_mode=False)
    except PsoasError as exc:
        if debug:
            raise
        err.print(f"[bold red]psoas: error:[/] {exc}", highlight=False, markup=True)
        return exc.exit_code
    except click.exceptions.Abort:
        err.print("psoas: interrupted")
        return 130
    except KeyboardInterrupt:
        err.print("psoas: interrupted")
        return 130
    except BrokenPipeError:
        # the reader of our stdout went away (e.g. `psoas export raw | head`): not an error
        sys.stderr.close()
        return 0
    except OSError as exc:
        if debug:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        err.print(f"[bold red]psoas: error:[/] {exc.strerror or exc}{where}", highlight=False)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
