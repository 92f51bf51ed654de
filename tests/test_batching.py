"""BatchBuffer: exactly-once, ordered release of IMU batches from an unreliable link."""

from __future__ import annotations

import numpy as np

from sensors.ble.batching import BatchBuffer
from sensors.ble.profiles.imu import ImuBatch

PERIOD_NS = 20_000_000  # 50 Hz
T0_US = 1_767_225_600_000_000


def batch(first_seq: int, count: int = 10, *, period_ns: int = PERIOD_NS, t0_us=None) -> ImuBatch:
    t0 = T0_US + first_seq * period_ns // 1000 if t0_us is None else t0_us
    raw = np.arange(first_seq * 3, (first_seq + count) * 3, dtype=np.int16).reshape(count, 3)
    return ImuBatch(
        first_seq=first_seq,
        t0_us=t0,
        period_ns=period_ns,
        live=False,
        acc_range_g=16,
        gyro_range_dps=0,
        raw=raw,
    )


class FakeClock:
    """A test double for time.monotonic (time is outside the code under test)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def seqs(batches) -> list[int]:
    return [b.first_seq for b in batches]


def test_in_order_batches_are_released_at_once():
    buf = BatchBuffer(0, expected_period_ns=PERIOD_NS)
    for s in (0, 10, 20):
        buf.add(batch(s))
    assert seqs(buf.release()) == [0, 10, 20]
    assert buf.next_seq == 30


def test_duplicates_are_dropped_and_counted():
    buf = BatchBuffer(0)
    buf.add(batch(0))
    buf.add(batch(0))
    assert seqs(buf.release()) == [0]
    buf.add(batch(0))  # again, after release
    assert buf.release() == []
    assert buf.counters.duplicate_batches == 2


def test_out_of_order_batches_are_put_back_in_order():
    buf = BatchBuffer(0)
    buf.add(batch(10))
    assert buf.release() == []  # seq 0-9 may still come
    buf.add(batch(0))
    assert seqs(buf.release()) == [0, 10]
    assert buf.counters.accepted_holes == 0


def test_hole_is_held_for_the_reorder_window_then_accepted_as_gap():
    clock = FakeClock()
    buf = BatchBuffer(0, reorder_window_s=2.0, clock=clock)
    buf.add(batch(0))
    buf.add(batch(20))
    assert seqs(buf.release()) == [0]
    clock.now = 1.0
    assert buf.release() == []
    clock.now = 2.5
    assert seqs(buf.release()) == [20]
    assert buf.counters.accepted_holes == 1


def test_final_release_accepts_every_hole():
    buf = BatchBuffer(0)
    buf.add(batch(30))
    buf.add(batch(50))
    assert seqs(buf.release(final=True)) == [30, 50]


def test_partial_overlap_is_trimmed_to_new_samples():
    buf = BatchBuffer(0)
    buf.add(batch(0, 10))
    buf.release()
    buf.add(batch(5, 10))  # seq 5..14: 5..9 already released
    out = buf.release()
    assert seqs(out) == [10] and out[0].count == 5
    np.testing.assert_array_equal(out[0].raw, batch(5, 10).raw[5:])
    assert out[0].t0_us == batch(10).t0_us
    assert buf.counters.trimmed_samples == 5


def test_batch_with_wrong_period_is_rejected():
    buf = BatchBuffer(0, expected_period_ns=PERIOD_NS)
    buf.add(batch(0, period_ns=PERIOD_NS * 3))
    assert buf.release(final=True) == []
    assert buf.counters.rejected_batches == 1
    assert "sample period" in buf.counters.reasons[0]


def test_a_clock_jumping_back_is_re_anchored_by_seq_and_rate_until_a_forward_jump():
    """Time never runs backwards: a batch stamped 10 s too early continues the previous one by
    seq and rate, its whole clock segment shifted alike; a later forward jump (a pause) takes
    the shift back, so stored time returns to the device's stamps. Nothing is dropped."""
    buf = BatchBuffer(0, expected_period_ns=PERIOD_NS)
    back = -10_000_000  # µs
    buf.add(batch(0))
    buf.add(batch(10, t0_us=batch(10).t0_us + back))
    buf.add(batch(20, t0_us=batch(20).t0_us + back))
    buf.add(batch(30, t0_us=batch(30).t0_us + back + 25_000_000))  # +25 s: a pause
    out = buf.release(final=True)
    assert seqs(out) == [0, 10, 20, 30] and buf.counters.rejected_batches == 0
    assert [b.t0_us for b in out[:3]] == [batch(s).t0_us for s in (0, 10, 20)]
    assert out[3].t0_us == batch(30).t0_us + back + 25_000_000  # the device's stamp again
    jumps = buf.counters.clock_jumps
    assert [(j.seq, j.jump_ns, j.shift_ns) for j in jumps] == [
        (10, back * 1000, -back * 1000),
        (30, 25_000_000_000, 0),
    ]


def test_a_clock_jump_at_the_resume_point_is_seen_from_the_stored_time():
    stored_t = (T0_US + 9 * PERIOD_NS // 1000) * 1000  # seq 9 is stored at this time
    buf = BatchBuffer(10, expected_period_ns=PERIOD_NS, last_t_ns=stored_t)
    buf.add(batch(10, t0_us=T0_US - 30_000_000))  # 30 s earlier than seq 0
    (out,) = buf.release(final=True)
    assert out.t0_us * 1000 == stored_t + PERIOD_NS


def test_first_batch_defines_the_start_when_nothing_is_stored():
    clock = FakeClock()
    buf = BatchBuffer(None, reorder_window_s=2.0, clock=clock)
    buf.add(batch(510))
    assert buf.release() == []  # an earlier batch may still arrive
    buf.add(batch(500))
    clock.now = 3.0
    assert seqs(buf.release()) == [500, 510]
    assert buf.next_seq == 520


def test_sync_mode_holds_holes_until_told():
    clock = FakeClock()
    buf = BatchBuffer(0, hold_holes=True, clock=clock)
    buf.add(batch(0))
    buf.add(batch(20))
    assert seqs(buf.release()) == [0]
    clock.now = 100.0
    assert buf.release() == [] and buf.hole() == 10
    buf.add(batch(10))  # the wearable sent it again
    assert seqs(buf.release()) == [10, 20] and buf.hole() is None


def test_accepted_hole_releases_what_waits_behind_it():
    buf = BatchBuffer(0, hold_holes=True)
    buf.add(batch(0))
    buf.add(batch(30))
    buf.release()
    buf.accept_hole()
    assert seqs(buf.release()) == [30]
    assert buf.counters.accepted_holes == 1
