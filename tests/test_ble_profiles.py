"""GATT profile codecs: the psoas IMU profile v1 and the SIG Running Speed and Cadence service.

Property tests: everything an encoder writes decodes back; anything a peer may send (garbage,
truncated, oversized) either decodes to a valid value or raises ProfileDecodeError, never any
other exception.
"""

from __future__ import annotations

import contextlib
import pickle
import struct
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sensors.ble.profiles import (
    ProfileDecodeError,
    ProfileEncodeError,
    ProfileError,
    imu,
    rsc,
    uuids,
)
from sensors.ble.profiles.imu import (
    ACC_RANGES_G,
    DEVICE_TIME_END_US,
    DEVICE_TIME_MIN_US,
    GYRO_RANGES_DPS,
    HEADER_BYTES,
    INT64_MAX,
    NO_VALUE,
    U32_MAX,
    U64_MAX,
    ImuBatch,
    ImuConfig,
    RacpOp,
    RacpResponse,
    RacpStatus,
)
from sensors.ble.profiles.rsc import RscMeasurement, StrideConvention
from sensors.errors import PsoasError
from sensors.schema import ACTIVITY_TYPES, validate_imu, validate_metrics

T0_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
PERIOD_50HZ_NS = 20_000_000

# --- UUIDs --------------------------------------------------------------------------------------


def test_uuids_are_the_documented_lowercase_128_bit_strings() -> None:
    assert uuids.IMU_SERVICE == "70736f61-0001-4b1d-8e3a-2c1d5a7e9f00"
    assert uuids.IMU_DATA == "70736f61-0002-4b1d-8e3a-2c1d5a7e9f00"
    assert uuids.IMU_CONFIG == "70736f61-0003-4b1d-8e3a-2c1d5a7e9f00"
    assert uuids.DEVICE_TIME == "70736f61-0004-4b1d-8e3a-2c1d5a7e9f00"
    assert uuids.IMU_RACP == "70736f61-0005-4b1d-8e3a-2c1d5a7e9f00"
    assert uuids.BATTERY_SERVICE == "0000180f-0000-1000-8000-00805f9b34fb"
    assert uuids.BATTERY_LEVEL == "00002a19-0000-1000-8000-00805f9b34fb"
    assert uuids.RSC_SERVICE == "00001814-0000-1000-8000-00805f9b34fb" == uuids.sig_uuid(0x1814)
    assert uuids.RSC_MEASUREMENT == "00002a53-0000-1000-8000-00805f9b34fb"
    assert uuids.RSC_FEATURE == "00002a54-0000-1000-8000-00805f9b34fb"


def test_profile_errors_are_psoas_errors_and_survive_pickling() -> None:
    err = ProfileDecodeError("x: byte 2 (count): bad", offset=2, field="count")
    assert isinstance(err, PsoasError)
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.offset, back.field) == (str(err), 2, "count")


# --- RSC Measurement ----------------------------------------------------------------------------


@st.composite
def rsc_measurements(draw: st.DrawFn) -> RscMeasurement:
    """Measurements on the wire grid, with every flag combination."""
    stride = draw(st.none() | st.integers(0, 0xFFFF))
    distance = draw(st.none() | st.integers(0, U32_MAX))
    return RscMeasurement(
        speed_mps=draw(st.integers(0, 0xFFFF)) / 256,
        cadence_spm=draw(st.integers(0, 255)),
        stride_length_m=None if stride is None else stride / 100,
        total_distance_m=None if distance is None else distance / 10,
        running=draw(st.booleans()),
    )


@given(rsc_measurements())
def test_rsc_measurement_round_trips_for_every_flag_combination(m: RscMeasurement) -> None:
    data = rsc.encode_rsc_measurement(m)
    assert len(data) == 4 + 2 * (m.stride_length_m is not None) + 4 * (
        m.total_distance_m is not None
    )
    assert rsc.decode_rsc_measurement(data) == m
    assert rsc.encode_rsc_measurement(rsc.decode_rsc_measurement(data)) == data


@given(rsc_measurements())
def test_rsc_every_truncated_prefix_raises_a_decode_error(m: RscMeasurement) -> None:
    data = rsc.encode_rsc_measurement(m)
    for end in range(len(data)):
        with pytest.raises(ProfileDecodeError, match=r"byte \d+ \("):
            rsc.decode_rsc_measurement(data[:end])


@given(st.binary(max_size=24))
def test_rsc_garbage_decodes_or_raises_only_decode_errors(data: bytes) -> None:
    try:
        m = rsc.decode_rsc_measurement(data)
    except ProfileDecodeError:
        return
    assert 0 <= m.speed_mps < 256 and 0 <= m.cadence_spm <= 255
    assert m.stride_length_m is None or 0 <= m.stride_length_m <= 655.35
    assert m.total_distance_m is None or 0 <= m.total_distance_m <= U32_MAX / 10


@given(rsc_measurements(), st.integers(1, 31), st.binary(max_size=8))
def test_rsc_reserved_flag_bits_and_trailing_bytes_are_ignored(
    m: RscMeasurement, reserved: int, tail: bytes
) -> None:
    data = bytearray(rsc.encode_rsc_measurement(m))
    data[0] |= reserved << 3
    assert rsc.decode_rsc_measurement(bytes(data) + tail) == m


def test_rsc_known_payload_decodes_to_documented_units() -> None:
    # flags 0b111: stride + distance + running; 3.5 m/s, 172 spm, 1.22 m, 1234.5 m
    data = bytes([0x07]) + struct.pack("<HBHI", 896, 172, 122, 12345)
    assert rsc.decode_rsc_measurement(data) == RscMeasurement(3.5, 172, 1.22, 1234.5, True)
    with pytest.raises(ProfileDecodeError, match=r"byte 6 \(total_distance\)"):
        rsc.decode_rsc_measurement(data[:8])


@pytest.mark.parametrize(
    "bad",
    [
        RscMeasurement(-0.1, 170, None, None, True),
        RscMeasurement(256.0, 170, None, None, True),
        RscMeasurement(float("nan"), 170, None, None, True),
        RscMeasurement(3.0, 256, None, None, True),
        RscMeasurement(3.0, 170, 655.36, None, True),
        RscMeasurement(3.0, 170, None, -1.0, True),
    ],
)
def test_rsc_encode_rejects_values_the_fields_cannot_hold(bad: RscMeasurement) -> None:
    with pytest.raises(ProfileEncodeError):
        rsc.encode_rsc_measurement(bad)


@given(st.sets(st.sampled_from(sorted(rsc.FEATURE_BITS))))
def test_rsc_feature_round_trips(features: set[str]) -> None:
    assert rsc.decode_rsc_feature(rsc.encode_rsc_feature(features)) == frozenset(features)


@given(st.binary(max_size=6))
def test_rsc_feature_garbage_decodes_or_raises_only_decode_errors(data: bytes) -> None:
    try:
        features = rsc.decode_rsc_feature(data)
    except ProfileDecodeError:
        assert len(data) < 2
        return
    assert features <= set(rsc.FEATURE_BITS)


def test_rsc_feature_unknown_name_is_refused() -> None:
    with pytest.raises(ProfileEncodeError, match="unknown feature"):
        rsc.encode_rsc_feature({"stride_length", "teleport"})


# --- stride convention and canonical metrics ----------------------------------------------------


def _footpod(
    n: int, *, lengths_per_step: float, seed: int = 0, moving: bool = True
) -> list[RscMeasurement]:
    """Footpod measurements passed through the wire (quantized like a real pod's)."""
    rng = np.random.default_rng(seed)
    speed = rng.uniform(2.5, 4.5, n) if moving else np.zeros(n)
    cadence = np.round(rng.uniform(160, 185, n))
    step = np.where(speed > 0, speed * 60 / cadence, 0.0)
    out = []
    for k in range(n):
        m = RscMeasurement(
            float(speed[k]),
            int(cadence[k]),
            float(step[k] * lengths_per_step),
            100.0 + k,
            bool(k % 3),
        )
        out.append(rsc.decode_rsc_measurement(rsc.encode_rsc_measurement(m)))
    return out


def _infer(measurements: list[RscMeasurement]) -> StrideConvention:
    return rsc.infer_stride_convention(*rsc.rsc_arrays(measurements))


def test_stride_convention_step_when_length_matches_speed_over_cadence() -> None:
    assert _infer(_footpod(60, lengths_per_step=1.0)) is StrideConvention.STEP


def test_stride_convention_stride_when_length_is_two_steps() -> None:
    assert _infer(_footpod(60, lengths_per_step=2.0)) is StrideConvention.STRIDE


def test_stride_convention_ignores_standing_samples() -> None:
    data = _footpod(40, lengths_per_step=2.0) + _footpod(200, lengths_per_step=1.0, moving=False)
    assert _infer(data) is StrideConvention.STRIDE


@pytest.mark.parametrize(
    "measurements",
    [
        _footpod(5, lengths_per_step=1.0),  # too few
        _footpod(60, lengths_per_step=1.0, moving=False),  # nobody moved
        _footpod(60, lengths_per_step=1.45),  # between the bands
        _footpod(30, lengths_per_step=1.0) + _footpod(30, lengths_per_step=2.0, seed=1),  # split
        [RscMeasurement(3.0, 170, None, None, True)] * 60,  # no length reported
    ],
    ids=["too-few", "standing", "between-bands", "half-and-half", "no-length"],
)
def test_stride_convention_unknown_when_too_few_or_ambiguous(
    measurements: list[RscMeasurement],
) -> None:
    assert _infer(measurements) is StrideConvention.UNKNOWN


def test_stride_convention_accepts_arrays_with_none_lengths() -> None:
    speed, cadence, length = rsc.rsc_arrays(_footpod(30, lengths_per_step=1.0))
    with_none = [None if k % 2 else float(x) for k, x in enumerate(length)]
    # 15 lengths remain: still enough
    assert rsc.infer_stride_convention(speed, cadence, with_none) is StrideConvention.STEP


@pytest.mark.parametrize(
    ("per_step", "convention"),
    [(1.0, StrideConvention.STEP), (2.0, StrideConvention.STRIDE)],
)
def test_rsc_to_metrics_writes_two_step_stride_length_in_both_conventions(
    per_step: float, convention: StrideConvention
) -> None:
    step_pod = _footpod(50, lengths_per_step=1.0)
    pod = _footpod(50, lengths_per_step=per_step)
    t = T0_US * 1000 + np.arange(50, dtype=np.int64) * 1_000_000_000
    frame = rsc.rsc_to_metrics(t, pod, convention)
    pd.testing.assert_frame_equal(frame, validate_metrics(frame))
    by = {name: g["value"].to_numpy() for name, g in frame.groupby("metric")}
    reported_step = np.array([m.stride_length_m for m in step_pod])
    np.testing.assert_allclose(by["stride_length_m"], 2 * reported_step, rtol=0.01)
    np.testing.assert_allclose(by["step_length_m"], by["stride_length_m"] / 2)
    assert set(by) == {
        "speed_mps",
        "cadence_spm",
        "stride_length_m",
        "step_length_m",
        "distance_m",
        "activity_type",
    }
    running = {k for k, name in ACTIVITY_TYPES.items() if name == "running"}
    walking = {k for k, name in ACTIVITY_TYPES.items() if name == "walking"}
    expected = [next(iter(running if m.running else walking)) for m in pod]
    np.testing.assert_array_equal(by["activity_type"], expected)
    np.testing.assert_array_equal(by["distance_m"], [m.total_distance_m for m in pod])
    assert (np.diff(frame["t"].to_numpy()) >= 0).all()


def test_rsc_to_metrics_leaves_lengths_out_when_the_convention_is_unknown() -> None:
    pod = [*_footpod(3, lengths_per_step=1.0), RscMeasurement(1.0, 100, None, None, False)]
    t = T0_US * 1000 + np.arange(4, dtype=np.int64)
    frame = rsc.rsc_to_metrics(t, pod, StrideConvention.UNKNOWN, report_activity=False)
    assert set(frame["metric"]) == {"speed_mps", "cadence_spm", "distance_m"}
    assert (frame["metric"] == "distance_m").sum() == 3
    assert rsc.rsc_to_metrics(t[:0], [], StrideConvention.STEP).empty
    with pytest.raises(ProfileError, match="measurements"):
        rsc.rsc_to_metrics(t[:2], pod, StrideConvention.STEP)


# --- IMU Config ---------------------------------------------------------------------------------


@st.composite
def imu_configs(draw: st.DrawFn) -> ImuConfig:
    has_gyro = draw(st.booleans())
    return ImuConfig(
        version=1,
        has_gyro=has_gyro,
        rate_hz=draw(st.integers(1, U32_MAX)) / 1000,
        acc_range_g=draw(st.sampled_from(ACC_RANGES_G)),
        gyro_range_dps=draw(st.sampled_from(GYRO_RANGES_DPS)) if has_gyro else 0,
        placement=draw(st.sampled_from(sorted(imu.PLACEMENT_CODES))),
        max_batch_samples=draw(st.integers(1, 255)),
    )


@given(imu_configs())
def test_imu_config_round_trips(cfg: ImuConfig) -> None:
    data = imu.encode_config(cfg)
    assert len(data) == 12
    assert imu.decode_config(data) == cfg


def test_imu_config_known_bytes() -> None:
    cfg = ImuConfig(1, True, 50.0, 8, 2000, "thigh", 18)
    assert imu.encode_config(cfg) == bytes([1, 1]) + struct.pack("<IBHBH", 50_000, 8, 2000, 1, 18)


@given(st.binary(max_size=16))
def test_imu_config_garbage_decodes_or_raises_only_decode_errors(data: bytes) -> None:
    try:
        cfg = imu.decode_config(data)
    except ProfileDecodeError:
        return
    assert cfg.placement in imu.PLACEMENT_CODES and cfg.acc_range_g in ACC_RANGES_G


@pytest.mark.parametrize(
    ("offset", "value", "field"),
    [(0, 2, "version"), (6, 3, "acc_range_g"), (9, 6, "placement"), (10, 0, "max_batch_samples")],
)
def test_imu_config_bad_field_is_named(offset: int, value: int, field: str) -> None:
    data = bytearray(imu.encode_config(ImuConfig(1, False, 50.0, 8, 0, "wrist", 81)))
    data[offset] = value
    with pytest.raises(ProfileDecodeError, match=rf"byte {offset} \({field}\)") as info:
        imu.decode_config(bytes(data))
    assert (info.value.offset, info.value.field) == (offset, field)


# --- IMU Data batches ---------------------------------------------------------------------------


@st.composite
def imu_batches(draw: st.DrawFn, max_count: int = 40) -> ImuBatch:
    count = draw(st.integers(1, max_count))
    has_gyro = draw(st.booleans())
    return ImuBatch(
        first_seq=draw(st.integers(0, INT64_MAX - count + 1)),
        t0_us=draw(st.integers(DEVICE_TIME_MIN_US, DEVICE_TIME_END_US - 1)),
        period_ns=draw(st.integers(1, U32_MAX)),
        live=draw(st.booleans()),
        acc_range_g=draw(st.sampled_from(ACC_RANGES_G)),
        gyro_range_dps=draw(st.sampled_from(GYRO_RANGES_DPS)) if has_gyro else 0,
        raw=draw(arrays(np.int16, (count, 6 if has_gyro else 3))),
    )


@given(imu_batches())
def test_imu_batch_round_trips(batch: ImuBatch) -> None:
    data = imu.encode_batch(batch)
    assert len(data) == HEADER_BYTES + batch.raw.size * 2
    back = imu.decode_batch(data)
    assert back == batch
    assert (back.count, back.has_gyro, back.last_seq) == (
        batch.count,
        batch.has_gyro,
        batch.first_seq + batch.count - 1,
    )
    assert back.raw.dtype == np.int16 and not back.raw.flags.writeable


@given(imu_batches())
def test_imu_batch_every_truncation_or_extension_raises_a_decode_error(batch: ImuBatch) -> None:
    data = imu.encode_batch(batch)
    for end in range(len(data)):
        with pytest.raises(ProfileDecodeError):
            imu.decode_batch(data[:end])
    for extra in (b"\x00", b"\x00" * 6, b"\xff" * 12):
        with pytest.raises(ProfileDecodeError, match=r"byte 2 \(count\)"):
            imu.decode_batch(data + extra)


@given(st.binary(max_size=600))
def test_imu_batch_garbage_raises_only_decode_errors(data: bytes) -> None:
    try:
        batch = imu.decode_batch(data)
    except ProfileDecodeError:
        return
    assert imu.encode_batch(batch) == data[:1] + bytes([data[1] & 0x03]) + data[2:]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(imu_batches(), st.data())
def test_imu_batch_corrupted_bytes_decode_or_raise_only_decode_errors(
    batch: ImuBatch, data: st.DataObject
) -> None:
    payload = bytearray(imu.encode_batch(batch))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, min(len(payload), HEADER_BYTES) - 1))
        payload[index] = data.draw(st.integers(0, 255))
    try:
        imu.decode_batch(bytes(payload))
    except ProfileDecodeError as err:
        assert err.field and err.offset is not None and f"byte {err.offset}" in str(err)


def _header(**fields: int) -> bytes:
    values = {
        "version": 1,
        "flags": 1,
        "count": 2,
        "acc": 16,
        "gyro": 2000,
        "seq": 0,
        "t0": T0_US,
        "period": PERIOD_50HZ_NS,
    }
    values.update(fields)
    return struct.pack("<BBBBHQqI", *values.values())


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"version": 2}, "version"),
        ({"count": 0}, "count"),
        ({"count": 3}, "count"),  # length says 2 samples
        ({"flags": 0}, "count"),  # 3 axes: length no longer fits the count
        ({"acc": 3}, "acc_range_g"),
        ({"gyro": 300}, "gyro_range_dps"),
        ({"gyro": 0}, "gyro_range_dps"),
        ({"seq": INT64_MAX}, "first_seq"),
        ({"seq": U64_MAX - 1}, "first_seq"),
        ({"t0": DEVICE_TIME_MIN_US - 1}, "t0_us"),
        ({"t0": DEVICE_TIME_END_US}, "t0_us"),
        ({"t0": 0}, "t0_us"),
        ({"period": 0}, "period_ns"),
    ],
)
def test_imu_batch_rejects_each_rule_of_the_spec_naming_the_field(
    fields: dict[str, int], field: str
) -> None:
    payload = _header(**fields) + b"\x01\x00" * 12
    with pytest.raises(ProfileDecodeError, match=rf"\({field}\)") as info:
        imu.decode_batch(payload)
    assert info.value.field == field


def test_imu_batch_count_inconsistent_with_length_names_count_and_sizes() -> None:
    with pytest.raises(ProfileDecodeError) as info:
        imu.decode_batch(_header(count=3) + b"\x00" * 24)
    assert "byte 2 (count)" in str(info.value) and "needs 62" in str(info.value)


def test_imu_batch_larger_than_one_notification_is_rejected() -> None:
    too_many = 41  # 26 + 41 × 12 = 518 bytes > 514
    with pytest.raises(ProfileDecodeError, match="notification"):
        imu.decode_batch(_header(count=too_many) + b"\x00" * (too_many * 12))
    assert len(imu.decode_batch(_header(count=40) + b"\x00" * 480).raw) == 40


def test_imu_batch_reserved_flag_bits_are_ignored() -> None:
    payload = _header(flags=0xFD) + b"\x00" * 24  # gyro set, live clear, reserved bits set
    batch = imu.decode_batch(payload)
    assert batch.has_gyro and not batch.live


def test_max_samples_per_batch_matches_the_spec_examples() -> None:
    assert imu.max_samples_per_batch(247, True) == 18
    assert imu.max_samples_per_batch(517, True) == 40
    assert imu.max_samples_per_batch(247, False) == 36
    assert imu.max_samples_per_batch(517, False) == 81
    with pytest.raises(ProfileEncodeError, match="at least 41"):
        imu.max_samples_per_batch(23, True)


# --- scaling and frames -------------------------------------------------------------------------


def _batch(raw: list[list[int]], *, acc: int = 16, gyro: int = 2000, seq: int = 7) -> ImuBatch:
    array = np.array(raw, dtype=np.int16)
    return ImuBatch(
        seq, T0_US, PERIOD_50HZ_NS, False, acc, gyro if array.shape[1] == 6 else 0, array
    )


def test_batch_to_frame_values_are_exact() -> None:
    batch = _batch([[32767, -32768, 1, 32767, -32768, 1], [0, -1, 16384, 0, -1, 16384]])
    frame = imu.batch_to_frame(batch)
    assert frame["ax"].iloc[0] == np.float32(15.99951171875)
    assert frame["ay"].iloc[0] == np.float32(-16.0)
    assert frame["az"].iloc[0] == np.float32(16 / 32768)
    assert frame["az"].iloc[1] == np.float32(8.0)
    assert frame["gx"].iloc[0] == np.float32(1999.93896484375)
    assert frame["gy"].iloc[0] == np.float32(-2000.0)
    assert frame["gz"].iloc[0] == np.float32(0.06103515625)
    assert frame["gy"].iloc[1] == np.float32(-0.06103515625)
    assert frame["t"].tolist() == [T0_US * 1000, T0_US * 1000 + PERIOD_50HZ_NS]
    assert frame["seq"].tolist() == [7, 8]
    pd.testing.assert_frame_equal(validate_imu(frame), frame)
    assert list(frame.columns) == ["t", "seq", "ax", "ay", "az", "gx", "gy", "gz"]


@given(imu_batches(max_count=10))
def test_batch_to_frame_is_float64_arithmetic_cast_to_float32_and_quantizes_back(
    batch: ImuBatch,
) -> None:
    frame = imu.batch_to_frame(batch)
    wide = batch.raw.astype(np.int64)  # int16 × range would overflow in int16
    acc = frame[["ax", "ay", "az"]].to_numpy()
    expected = (batch.raw[:, :3].astype(np.float64) * batch.acc_range_g / 32768).astype(np.float32)
    np.testing.assert_array_equal(acc, expected)
    assert (acc.astype(np.float64) == wide[:, :3] * batch.acc_range_g / 32768).all()
    np.testing.assert_array_equal(imu.quantize(acc, batch.acc_range_g), batch.raw[:, :3])
    if batch.has_gyro:
        gyro = frame[["gx", "gy", "gz"]].to_numpy()
        assert (gyro.astype(np.float64) == wide[:, 3:] * batch.gyro_range_dps / 32768).all()
        np.testing.assert_array_equal(imu.quantize(gyro, batch.gyro_range_dps), batch.raw[:, 3:])
    index = np.arange(batch.count)
    np.testing.assert_array_equal(frame["t"], batch.t0_us * 1000 + index * batch.period_ns)
    np.testing.assert_array_equal(frame["seq"], batch.first_seq + index)
    validate_imu(frame)


def test_quantize_rounds_half_to_even_and_saturates() -> None:
    lsb = 16 / 32768
    values = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 40000, -40000, np.inf, -np.inf]) * lsb
    assert imu.quantize(values, 16).tolist() == [0, 2, 2, 0, -2, 32767, -32768, 32767, -32768]
    with pytest.raises(ProfileEncodeError, match="NaN"):
        imu.quantize(np.array([1.0, np.nan]), 16)


def test_batches_to_frame_mixing_gyro_and_accelerometer_only_is_refused() -> None:
    with pytest.raises(ProfileError, match="gyroscope"):
        imu.batches_to_frame([_batch([[1, 2, 3]]), _batch([[1, 2, 3, 4, 5, 6]], seq=8)])
    empty = imu.batches_to_frame([])
    assert empty.empty and list(empty.columns) == ["t", "seq", "ax", "ay", "az"]


def test_batches_to_frame_with_different_ranges_scales_each_batch() -> None:
    frame = imu.batches_to_frame(
        [_batch([[16384, 0, 0]], acc=2), _batch([[16384, 0, 0]], acc=16, seq=8)]
    )
    assert frame["ax"].tolist() == [1.0, 8.0]


def _frame(seq: np.ndarray, *, gyro: bool, seed: int = 0) -> pd.DataFrame:
    """A canonical frame with times on the 50 Hz grid of its seq numbers (gaps included)."""
    rng = np.random.default_rng(seed)
    n = len(seq)
    data = {
        "t": T0_US * 1000 + seq * PERIOD_50HZ_NS,
        "seq": seq,
        "ax": rng.normal(0, 3, n).astype(np.float32),
        "ay": rng.normal(0, 3, n).astype(np.float32),
        "az": (rng.normal(1, 9, n)).astype(np.float32),  # some saturate at ±8 g
    }
    if gyro:
        for c in ("gx", "gy", "gz"):
            data[c] = rng.normal(0, 300, n).astype(np.float32)
    return pd.DataFrame(data)


@pytest.mark.parametrize("gyro", [True, False])
def test_frame_to_batches_through_the_wire_equals_the_quantized_input_bit_for_bit(
    gyro: bool,
) -> None:
    seq = np.concatenate([np.arange(0, 100), np.arange(137, 300), np.arange(301, 302)])
    frame = _frame(seq.astype(np.int64), gyro=gyro)
    max_samples = imu.max_samples_per_batch(247, gyro)
    batches = imu.frame_to_batches(
        frame, acc_range_g=8, gyro_range_dps=500, rate_hz=50.0, max_samples=max_samples
    )
    assert all(1 <= b.count <= max_samples for b in batches)
    assert all(b.period_ns == PERIOD_50HZ_NS and not b.live for b in batches)
    # a seq jump starts a new batch; a batch never spans one
    firsts = [b.first_seq for b in batches]
    assert {0, 137, 301} <= set(firsts)
    assert all(b.last_seq < 137 or b.first_seq >= 137 for b in batches)
    assert sum(b.count for b in batches) == len(frame)

    received = [imu.decode_batch(imu.encode_batch(b)) for b in batches]
    assert received == batches
    out = imu.batches_to_frame(received)

    expected = frame.copy()
    for column, range_ in [("ax", 8), ("ay", 8), ("az", 8)] + (
        [("gx", 500), ("gy", 500), ("gz", 500)] if gyro else []
    ):
        raw = imu.quantize(frame[column].to_numpy(), range_)
        expected[column] = (raw.astype(np.float64) * range_ / 32768).astype(np.float32)
    pd.testing.assert_frame_equal(out, expected, check_exact=True)
    assert out["az"].max() == np.float32(32767 * 8 / 32768)
    # a frame already on the grid (a device that logs int16 counts) comes back unchanged
    again = imu.batches_to_frame(
        imu.frame_to_batches(out, acc_range_g=8, gyro_range_dps=500, rate_hz=50.0, max_samples=7)
    )
    pd.testing.assert_frame_equal(again, out, check_exact=True)


def test_frame_to_batches_refuses_what_a_batch_cannot_carry() -> None:
    frame = _frame(np.arange(10, dtype=np.int64), gyro=True)
    ok = {"acc_range_g": 8, "gyro_range_dps": 500, "rate_hz": 50.0, "max_samples": 18}
    for bad in (
        {"acc_range_g": 5},
        {"gyro_range_dps": 0},
        {"rate_hz": 0.0},
        {"rate_hz": 0.1},  # a 10 s period does not fit the u32 ns field
        {"max_samples": 41},
        {"max_samples": 0},
    ):
        with pytest.raises(ProfileEncodeError):
            imu.frame_to_batches(frame, **{**ok, **bad})
    early = frame.assign(t=frame["t"] - 40 * 365 * 86400 * 10**9)
    with pytest.raises(ProfileEncodeError, match="2000–2100"):
        imu.frame_to_batches(early, **ok)
    assert imu.frame_to_batches(frame.iloc[:0], **ok) == []
    live = imu.frame_to_batches(frame.drop(columns=["gx", "gy", "gz"]), **ok, live=True)
    assert all(b.live and b.gyro_range_dps == 0 and not b.has_gyro for b in live)


def test_batches_to_frame_converts_a_day_of_batches_quickly() -> None:
    n = 24 * 3600 * 50  # one day at 50 Hz, 6 axes, 18 samples per batch: 240 k batches
    rng = np.random.default_rng(3)
    raw = rng.integers(-32768, 32768, size=(n, 6), dtype=np.int16)
    batches = [
        ImuBatch(
            i, T0_US + (i * PERIOD_50HZ_NS) // 1000, PERIOD_50HZ_NS, False, 8, 2000, raw[i : i + 18]
        )
        for i in range(0, n, 18)
    ]
    assert len(batches) == 240_000
    start = time.perf_counter()
    frame = imu.batches_to_frame(batches)
    elapsed = time.perf_counter() - start
    print(f"batches_to_frame: {len(batches)} batches, {len(frame)} samples in {elapsed:.2f} s")
    assert len(frame) == n and elapsed < 3.0
    np.testing.assert_array_equal(frame["seq"], np.arange(n))
    np.testing.assert_array_equal(frame["t"], T0_US * 1000 + np.arange(n) * PERIOD_50HZ_NS)


# --- Record Access Control Point and Device Time ------------------------------------------------


@given(st.sampled_from(RacpOp), st.integers(0, U64_MAX))
def test_racp_request_round_trips(op: RacpOp, operand: int) -> None:
    data = imu.encode_racp_request(op, operand)
    assert len(data) == 9
    assert imu.decode_racp_request(data) == (op, operand)


@given(
    st.sampled_from(RacpOp),
    st.sampled_from(RacpStatus),
    st.integers(0, U64_MAX),
    st.integers(0, U64_MAX),
)
def test_racp_response_round_trips(op: RacpOp, status: RacpStatus, v1: int, v2: int) -> None:
    resp = RacpResponse(op, status, v1, v2)
    data = imu.encode_racp_response(resp)
    assert len(data) == 18 and data[0] == op | 0x80
    back = imu.decode_racp_response(data)
    assert back == resp and isinstance(back.op, RacpOp) and isinstance(back.status, RacpStatus)


def test_racp_no_value_is_all_ones() -> None:
    data = imu.encode_racp_response(RacpResponse(RacpOp.DELETE, RacpStatus.NO_RECORDS, 0, NO_VALUE))
    assert data[-8:] == b"\xff" * 8


def test_racp_unknown_opcode_is_a_decode_error() -> None:
    with pytest.raises(ProfileDecodeError, match=r"byte 0 \(opcode\): unknown opcode 0x42"):
        imu.decode_racp_request(imu.encode_racp_request(0x42, 0))
    # a device can still answer it: NOT_SUPPORTED for request 0x42
    unknown = RacpResponse(0x42, RacpStatus.NOT_SUPPORTED, 0, 0)  # type: ignore[arg-type]
    answer = imu.encode_racp_response(unknown)
    with pytest.raises(ProfileDecodeError, match="unknown opcode 0x42"):
        imu.decode_racp_response(answer)
    with pytest.raises(ProfileDecodeError, match="response bit"):
        imu.decode_racp_response(b"\x01\x00" + b"\x00" * 16)
    with pytest.raises(ProfileDecodeError, match=r"byte 1 \(status\)"):
        imu.decode_racp_response(b"\x81\x09" + b"\x00" * 16)


@given(st.binary(max_size=24))
def test_racp_garbage_raises_only_decode_errors(data: bytes) -> None:
    for decode in (imu.decode_racp_request, imu.decode_racp_response, imu.decode_device_time):
        with contextlib.suppress(ProfileDecodeError):
            decode(data)


def test_racp_encoders_refuse_values_the_fields_cannot_hold() -> None:
    with pytest.raises(ProfileEncodeError):
        imu.encode_racp_request(RacpOp.SEND, -1)
    with pytest.raises(ProfileEncodeError):
        imu.encode_racp_request(RacpOp.SEND, U64_MAX + 1)
    with pytest.raises(ProfileEncodeError):
        imu.encode_racp_request(0x80, 0)


@given(st.integers(-(2**63), 2**63 - 1))
def test_device_time_round_trips(us: int) -> None:
    assert imu.decode_device_time(imu.encode_device_time(us)) == us


def test_device_time_wrong_length_is_a_decode_error() -> None:
    with pytest.raises(ProfileDecodeError, match=r"Device Time: byte 0 \(length\)"):
        imu.decode_device_time(b"\x00" * 7)
