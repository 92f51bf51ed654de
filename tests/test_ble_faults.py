"""Fault injection on the Bluetooth path, through the virtual wearable.

A wearable whose firmware hangs (mid-SEND with the link up, RACP writes never answered, the live
stream going silent), one whose clock jumps forward and back in the middle of its log, and live
streams whose notifications are lost, duplicated and reordered on the radio (the wearable still
holds those samples: they must be fetched again, never become gaps) or that the device itself
lost before logging them (those are gaps). Two real bumble stacks exchange real packets on an
in-process link; the real collector writes to the real store on disk (tmp_path). Nothing is
mocked: the faults are options of the virtual wearable (``stall_after_samples``,
``stall_for_s``, ``stall_write_response``, ``clock_jumps``, ``lose_packets``,
``duplicate_packets``, ``reorder_packets``); a sensor buffer overrun while live is a small
subclass that skips ``seq`` numbers before logging, as a device would.
"""

from __future__ import annotations

import dataclasses
import functools
import time

import numpy as np
import pandas as pd
import pytest

from sensors.ble.collector import CollectorError, ble_device_id
from sensors.ble.profiles.imu import RacpOp
from sensors.ble.wearable import VirtualWearable, WearableOptions, wearable_from_simulation
from tests.test_collector import run, simulated
from tests.test_collector import sync as collector_sync

STALL_S = 1.0
"""The collector's stall timeout here (the default is 15 s): a hang is seen within a second."""
PERIOD_NS = 20_000_000  # 50 Hz


@functools.cache
def _day():
    return simulated(None)  # one simulated 50 Hz day for the whole module (never mutated)


def recording(minutes: float, skip_minutes: float = 0.0):
    """``minutes`` of the module's simulated day (after ``skip_minutes``)."""
    day = _day()
    start = int(skip_minutes * 60 * day.rate_hz)
    part = day.samples.iloc[start : start + int(minutes * 60 * day.rate_hz)]
    return dataclasses.replace(day, samples=part.reset_index(drop=True))


def sync(*args, **kwargs):
    """The collector tests' ``sync`` with a short scan (one wearable on the link)."""
    return collector_sync(*args, scan_s=0.5, **kwargs)


def device_id_of(wearable) -> str:
    return ble_device_id(wearable.options.name, wearable.address)


@pytest.mark.parametrize(
    ("stall_after", "write_response", "second_stall"),
    [
        (25_000, True, "answer (indication) to RACP REPORT_COUNT"),
        (10_000, False, "write response to RACP REPORT_COUNT"),
    ],
    ids=["writes-acknowledged", "writes-unanswered"],
)
def test_a_device_that_hangs_mid_sync_loses_nothing(
    store, stall_after, write_response, second_stall
):
    """The firmware hangs in the middle of a SEND with the link up: no more records, no final
    RACP indication; after the reconnect it leaves REPORT_COUNT unanswered (indication only, or
    the ATT write response too). The collector gives up after a bounded time, keeps exactly
    the in-order prefix it received, says so, and the sync after a power cycle fetches the rest:
    every sample the device held is stored exactly once, bit for bit."""
    options = WearableOptions(
        name="psoas-hang", stall_after_samples=stall_after, stall_write_response=write_response
    )
    wearable = wearable_from_simulation(recording(20), options)
    expected = wearable.records.to_frame()
    device_id = device_id_of(wearable)

    started = time.monotonic()
    with pytest.raises(CollectorError) as failure:
        run(sync(store, wearable, stall_timeout_s=STALL_S))
    assert time.monotonic() - started < 20  # bounded: two stall timeouts and a reconnect
    stored = store.read_samples(device_id)
    committed = len(stored)
    assert wearable.faults.stalls == 1 and wearable.faults.ignored_racp >= 1
    assert committed == wearable.air_samples >= stall_after  # all that went on the air
    pd.testing.assert_frame_equal(stored, expected.iloc[:committed])
    assert store.cursor(device_id) == committed - 1
    assert wearable.records.samples == len(expected)  # nothing freed on the device
    message = str(failure.value)
    for part in (
        "psoas-hang",
        wearable.address,
        "stopped answering with the link up",
        second_stall,
        f"{committed:,} new samples of this run are committed",
        f"through seq {committed - 1}",
        "Restart the wearable",
        "run `psoas collect` again",
    ):
        assert part in message, (part, message)

    report = run(sync(store, wearable, stall_timeout_s=STALL_S))  # restarted: recovered
    assert report.device_id == device_id
    assert report.stalls == 0 and report.samples == len(expected) - committed
    final = store.read_samples(device_id)
    pd.testing.assert_frame_equal(final, expected)
    assert final["seq"].is_unique
    assert report.deleted_on_device == len(expected) and wearable.records.samples == 0


def test_a_short_hang_is_retried_within_the_same_run(store):
    """A firmware that resets itself 0.3 s into a hang forgets the SEND (no final indication):
    the collector times out, reconnects and finishes the sync in the same run."""
    options = WearableOptions(name="psoas-hiccup", stall_after_samples=30_000, stall_for_s=0.3)
    wearable = wearable_from_simulation(recording(20), options)
    expected = wearable.records.to_frame()
    report = run(sync(store, wearable, stall_timeout_s=STALL_S))
    assert wearable.faults.stalls == 1 and report.stalls == 1 and report.reconnects == 1
    pd.testing.assert_frame_equal(store.read_samples(report.device_id), expected)
    assert report.samples == len(expected) and wearable.records.samples == 0


def test_a_live_stream_that_goes_silent_is_resynced_without_loss_or_duplicates(store):
    """Live notifications cease (the firmware hangs 1 s into the stream, keeps logging, resets
    after 0.3 s and forgets the stream): the collector sees the silence, reconnects, syncs what
    was logged meanwhile and streams on. Offline log and live samples: each stored once."""
    sim = recording(2)
    offline = len(sim.samples)
    options = WearableOptions(
        name="psoas-live-hang", stall_after_samples=offline + 50, stall_for_s=0.3
    )
    wearable = wearable_from_simulation(sim, options, live_source=live_frames(5, 2))
    report = run(sync(store, wearable, live_s=5.0, delete=False, stall_timeout_s=STALL_S))
    expected = wearable.records.to_frame()  # the offline log plus everything sampled live
    stored = store.read_samples(report.device_id)
    assert wearable.faults.stalls == 1 and report.stalls == 1
    assert wearable.live_batches > 0 and len(expected) > offline + 100  # streamed on after it
    assert stored["seq"].is_unique
    pd.testing.assert_frame_equal(stored, expected)
    assert store.cursor(report.device_id) == wearable.records.last_seq
    assert report.gaps == 0


def test_a_clock_that_jumps_forward_and_back_keeps_every_sample_at_a_possible_time(store):
    """The device clock jumps +1 h (kept: with seq contiguous it looks like a pause), then back
    30 s (its stamps overlap earlier ones), then back 0.5 s and forward 10 s; the firmware also
    hangs in the middle, so the second half comes in a later sync that must see the jump
    relative to what is stored. Every sample is stored once with its values bit for bit; time
    strictly increases; backward jumps are re-anchored by seq and rate (within one sample
    period of where the rate puts them), a forward jump first gives the shift back."""
    jumps = [(12_000, 3600.0), (30_000, -30.0), (50_000, -0.5), (55_000, 10.0)]
    options = WearableOptions(name="psoas-clock", clock_jumps=jumps, stall_after_samples=40_000)
    wearable = wearable_from_simulation(recording(20), options)
    device = wearable.records.to_frame()  # the device's own stamps, jumps included
    assert wearable.faults.clock_jumps == len(jumps)
    device_id = device_id_of(wearable)

    with pytest.raises(CollectorError, match="stopped answering"):
        run(sync(store, wearable, stall_timeout_s=STALL_S))
    first_part = len(store.read_samples(device_id))
    assert 30_000 < first_part < len(device)  # the backward jump is in the first sync
    report = run(sync(store, wearable, stall_timeout_s=STALL_S))
    stored = store.read_samples(device_id)

    # zero lost, zero duplicated, values untouched
    assert stored["seq"].tolist() == device["seq"].tolist()
    values = [c for c in device.columns if c != "t"]
    pd.testing.assert_frame_equal(stored[values], device[values])
    # no impossible time: strictly increasing, nothing in the future of the host clock
    t = stored["t"].to_numpy()
    assert (np.diff(t) > 0).all()
    assert t[-1] + report.clock_offset_ns < time.time_ns()
    # before the first backward jump: the device's stamps bit for bit (the +1 h jump kept)
    seq = stored["seq"].to_numpy()
    shift = t - device["t"].to_numpy()
    assert (shift[seq < 30_000] == 0).all()
    assert np.diff(t)[11_999] == pytest.approx(3600e9, abs=PERIOD_NS)
    # after it: shifted by the backward jumps (re-anchored by seq and rate), the forward
    # jump giving 10 s of it back; each within one sample period of the nominal shift
    for lo, hi, nominal_s in [(30_000, 50_000, 30.0), (50_000, 55_000, 30.5), (55_000, None, 20.5)]:
        part = shift[(seq >= lo) & (seq < (hi or seq[-1] + 1))]
        assert np.abs(part - nominal_s * 1e9).max() <= PERIOD_NS, (lo, part.min(), part.max())
    # the second sync saw the device clock behind what is stored, and the later jumps
    seen = {j.seq: j for j in report.counters.clock_jumps}
    assert {50_000, 55_000, first_part} <= set(seen)
    assert seen[first_part].jump_ns == pytest.approx(-30e9, abs=PERIOD_NS)
    assert seen[50_000].shift_ns == pytest.approx(30.5e9, abs=PERIOD_NS)
    assert seen[55_000].shift_ns == pytest.approx(20.5e9, abs=PERIOD_NS)


def live_frames(minutes: float, skip_minutes: float) -> list[pd.DataFrame]:
    """A live source: ``minutes`` of the module's day, 500 samples a frame."""
    live = recording(minutes, skip_minutes=skip_minutes).samples
    return [live.iloc[i : i + 500] for i in range(0, len(live), 500)]


class DeleteWatch:
    """Wraps a wearable's ``records.delete_through``: keeps what each DELETE freed and notes
    any freed ``seq`` the store did not hold at that moment (the collector must never let the
    wearable free what the store does not hold)."""

    def __init__(self, wearable: VirtualWearable, store, device_id: str) -> None:
        self.records = wearable.records
        self.freed: list[pd.DataFrame] = []
        self.not_stored: list[int] = []
        self.operands: list[int] = []
        delete_through = self.records.delete_through

        def watched(seq: int) -> int:
            held = self.records.to_frame()
            freed = held[held["seq"] <= seq]
            stored = set(store.read_samples(device_id, columns=["t", "seq"])["seq"].tolist())
            self.not_stored += [s for s in freed["seq"].tolist() if s not in stored]
            self.freed.append(freed)
            self.operands.append(seq)
            return delete_through(seq)

        self.records.delete_through = watched  # type: ignore[method-assign]

    def device_log(self) -> pd.DataFrame:
        """Everything the wearable held in the run: what it freed, then what it still holds."""
        parts = [f for f in [*self.freed, self.records.to_frame()] if len(f)]
        return pd.concat(parts, ignore_index=True)


def live_sends(wearable: VirtualWearable, after_seq: int) -> list[int]:
    """Operands of the SENDs the collector made while streaming live (before STOP_LIVE)."""
    log = wearable.racp_log
    stop = next(i for i, (op, _, _) in enumerate(log) if op == RacpOp.STOP_LIVE)
    return [operand for op, operand, _ in log[:stop] if op == RacpOp.SEND and operand > after_seq]


def test_live_radio_losses_duplicates_and_reordering_are_fetched_again_never_gaps(store):
    """Live notifications lost (5 %), duplicated (5 %) and reordered (5 %) on the radio after a
    short offline log: the wearable logged them all, so a hole that outlives the reorder window
    is asked for again with a SEND while the live stream goes on. Every sample the device held
    is stored once, bit for bit, with no gap, and the wearable freed only what was stored."""
    sim = recording(1)
    options = WearableOptions(
        name="psoas-live-faults",
        lose_packets=0.05,
        duplicate_packets=0.05,
        reorder_packets=0.05,
        live_batch_s=0.05,  # 2 samples a notification: 25 notifications/s to lose
        seed=7,
    )
    wearable = wearable_from_simulation(sim, options, live_source=live_frames(3, 1))
    offline_last = wearable.records.last_seq
    device_id = device_id_of(wearable)
    watch = DeleteWatch(wearable, store, device_id)

    report = run(sync(store, wearable, live_s=8.0))
    device = watch.device_log()
    stored = store.read_samples(device_id)

    assert wearable.live_batches > 100 and len(device) > len(sim.samples) + 300
    assert wearable.faults.lost > 0 and wearable.faults.duplicated > 0
    assert wearable.faults.reordered > 0
    assert live_sends(wearable, offline_last), wearable.racp_log  # holes fetched while live
    assert report.go_backs >= 1 and report.counters.duplicate_batches > 0
    pd.testing.assert_frame_equal(stored, device)  # every sample once, bit for bit
    assert stored["seq"].tolist() == list(range(len(stored)))
    assert report.gaps == 0 and store.read_table("gaps").empty
    assert report.counters.accepted_holes == 0
    # freed on the device: only what the store held, mid-stream too; at the end all of it
    assert watch.not_stored == []
    assert any(offline_last < seq < stored["seq"].iloc[-1] for seq in watch.operands)
    assert wearable.records.samples == 0 and report.deleted_on_device == len(device)
    print(
        f"\nlive faults: {wearable.faults.lost} lost, {wearable.faults.duplicated} duplicated, "
        f"{wearable.faults.reordered} reordered; {report.go_backs} go-backs "
        f"({len(live_sends(wearable, offline_last))} while live); {len(stored):,} samples checked"
    )


class OverrunWearable(VirtualWearable):
    """A wearable whose sensor buffer overruns now and then while sampling live: every
    ``every``-th chunk loses its samples 1..3 before they are logged (their ``seq`` numbers are
    skipped, time goes on), so the device never holds them, as the simulator's ``packet_loss``
    does to the offline log."""

    def __init__(self, *args, every: int = 8, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.every = every
        self.chunks = 0
        self.overruns: list[tuple[int, int]] = []  # (first lost seq, count)

    def _log_live(self, values: np.ndarray, t0_ns: int) -> None:
        self.chunks += 1
        if self.chunks % self.every or len(values) < 5:
            super()._log_live(values, t0_ns)
            return
        super()._log_live(values[:1], t0_ns)
        self.overruns.append((self.next_seq, 3))
        self.next_seq += 3
        super()._log_live(values[4:], t0_ns + 4 * self._period_ns)


def test_samples_the_device_lost_while_live_are_gaps_never_invented(store):
    """The device loses samples itself (before logging them) in its offline log and while
    streaming live, and the radio loses notifications too: what the device lost becomes
    exactly the store's gaps; everything it logged is stored once, bit for bit."""
    sim = recording(1)
    samples = sim.samples
    offline_lost = [(300, 7), (1_200, 1), (2_000, 25)]  # as the simulator's packet_loss
    for first, count in offline_lost:
        samples = samples[(samples["seq"] < first) | (samples["seq"] >= first + count)]
    sim = dataclasses.replace(sim, samples=samples.reset_index(drop=True))
    options = WearableOptions(
        name="psoas-live-overrun", lose_packets=0.05, live_batch_s=0.1, seed=5
    )
    honest = wearable_from_simulation(sim, options, live_source=live_frames(3, 1))
    wearable = OverrunWearable(honest.options, honest.records, honest.live_source)
    wearable.next_seq = honest.next_seq
    device_id = device_id_of(wearable)
    watch = DeleteWatch(wearable, store, device_id)

    report = run(sync(store, wearable, live_s=5.0))
    device = watch.device_log()
    stored = store.read_samples(device_id)

    assert len(wearable.overruns) >= 3 and wearable.faults.lost > 0
    pd.testing.assert_frame_equal(stored, device)  # nothing invented, nothing lost twice
    gaps = store.read_table("gaps")
    lost = sorted(offline_lost + wearable.overruns)
    found = sorted(
        zip(gaps["first_missing_seq"].tolist(), gaps["missing_count"].tolist(), strict=True)
    )
    assert found == lost
    assert report.gaps == len(lost) and report.missing_samples == sum(n for _, n in lost)
    assert watch.not_stored == []  # what it lost it never held, so never freed
    assert wearable.records.samples == 0
