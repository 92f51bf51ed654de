"""``psoas collect --live-alerts``: print (and store) a sitting-streak alert as it happens."""

from __future__ import annotations

import pandas as pd

from analysis.alerts import LiveSittingAlerts
from analysis.day import ALERT_KIND
from analysis.pipeline import sitting_settings, stored_orientation
from analysis.sitting import Alert
from psoas.console import out
from sensors.store import Store
from sensors.timeutil import local_day, zone


class LiveAlertPrinter:
    """The collector's batch hook: one live detector per device, alerts printed and stored.

    Every committed batch goes through the detector (the synced history gives the streak its
    start); only alerts raised by live batches are printed and stored: the history's streaks are
    marked by ``psoas analyze``.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.detectors: dict[str, LiveSittingAlerts] = {}
        self.raised: list[tuple[str, Alert]] = []

    def __call__(self, device_id: str, samples: pd.DataFrame, live: bool) -> None:
        detector = self.detectors.get(device_id) or self._detector(device_id)
        for alert in detector.feed(samples):
            if live:
                self._raise(device_id, alert)

    def _detector(self, device_id: str) -> LiveSittingAlerts:
        device = self.store.device(device_id)
        placement = device.placement if device else "thigh"
        settings = sitting_settings(self.store)
        detector = LiveSittingAlerts(
            placement, settings.bouts, settings.alerts, stored_orientation(self.store, device_id)
        )
        self.detectors[device_id] = detector
        return detector

    def _raise(self, device_id: str, alert: Alert) -> None:
        device = self.store.device(device_id)
        tz = device.tz if device else "UTC"
        since = pd.Timestamp(alert.bout_start, tz="UTC").tz_convert(zone(tz))
        out.print(
            f"[bold]{device_id}: sitting for {alert.streak_s / 60:.0f} min[/] (since "
            f"{since:%H:%M}) - time to stand up and move",
            highlight=False,
        )
        row = pd.DataFrame(
            {
                "device_id": [device_id],
                "day": [local_day(alert.t, tz).isoformat()],
                "t": [alert.t],
                "kind": [ALERT_KIND],
                "streak_s": [alert.streak_s],
                "bout_start": [alert.bout_start],
                "source": ["live"],
                "acknowledged": [False],
            }
        )
        self.store.replace_derived(
            "alerts", row, {"device_id": device_id, "t": alert.t, "source": "live"}
        )
        self.raised.append((device_id, alert))
