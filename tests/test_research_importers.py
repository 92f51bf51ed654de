"""Axivity CWA and GENEActiv BIN import against scikit-digital-health's decoded truth.

The truth files are quantised (times to 0.1 ms, GENEActiv acceleration to 1e-4 g, gyroscope to
float32-like precision), so "within 5e-5" is checked with a tolerance of 5e-5 plus the float64 /
float32 spacing of the compared values.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.cwa_files import BuiltFile, build_cwa
from sensors.errors import ImportFormatError, PsoasError
from sensors.importers import axivity
from sensors.importers.axivity import BLOCK_BYTES, HEADER_BYTES
from sensors.importers.base import Batch, ImportOptions
from sensors.importers.run import import_file
from sensors.store import Store
from tests.conftest import catalog_dump, mutate_bytes, shared_file, tree_snapshot

FILES = {"ax3": "ax3_sample.cwa", "ax6": "ax6_sample.cwa", "gnactv": "gnactv_sample.bin"}
GENEACTIV_UTC_OFFSET_S = -4 * 3600  # the sample's header says "Time Zone:GMT -04:00"


def _truth(name: str) -> dict[str, np.ndarray]:
    with np.load(shared_file(f"skdh_io/{name}_data.npz")) as data:
        return {k: data[k] for k in data.files}


def _close(name: str, got: np.ndarray, want: np.ndarray, what: str) -> float:
    err = np.abs(got - want)
    spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    print(f"{name} {what}: max abs error {err.max():.3g}")
    assert (err <= 5e-5 + spacing).all(), f"{name} {what}: max error {err.max()}"
    return float(err.max())


def _device(store: Store) -> str:
    devices = store.devices()["device_id"].tolist()
    assert len(devices) == 1
    return str(devices[0])


def _raw(store: Store) -> pd.DataFrame:
    return store.read_samples(_device(store))


@pytest.mark.parametrize("name", list(FILES))
def test_decodes_to_truth(name: str, tmp_path: Path) -> None:
    path = shared_file(f"skdh_io/{FILES[name]}")
    truth = _truth(name)
    with Store.open(tmp_path / "store") as store:
        report = import_file(store, path, ImportOptions(tz="UTC"))
        raw = _raw(store)
        metrics = store.read_metrics(_device(store))
        rate_hz = store.recordings()["rate_hz"].tolist()
        gaps = store.read_table("gaps")
    print(name, report.importer, report.decisions)
    assert report.result.new_samples == len(truth["time"]) == len(raw)
    t = raw["t"].to_numpy() / 1e9
    if name == "gnactv":
        t = t + GENEACTIV_UTC_OFFSET_S  # skdh reads the local page time as if it were UTC
    _close(name, t, truth["time"], "time (s)")
    _close(name, raw[["ax", "ay", "az"]].to_numpy(np.float64), truth["accel"], "accel (g)")
    if "gyro" in truth:
        _close(name, raw[["gx", "gy", "gz"]].to_numpy(np.float64), truth["gyro"], "gyro (deg/s)")
    else:
        assert "gx" not in raw.columns or raw["gx"].isna().all()
    temp = metrics[metrics["metric"] == "temperature_c"]
    row = np.searchsorted(temp["t"].to_numpy(), raw["t"].to_numpy(), side="right") - 1
    assert (row >= 0).all()
    _close(name, temp["value"].to_numpy()[row], truth["temperature"], "temperature (C)")
    assert rate_hz == [pytest.approx(float(np.ravel(truth.get("fs", [50.0]))[0]))]
    assert gaps.empty


def test_corrupted_cwa_block_is_skipped_and_becomes_a_gap(tmp_path: Path) -> None:
    source = shared_file("skdh_io/ax3_sample.cwa")
    data = bytearray(source.read_bytes())
    block = 17
    data[HEADER_BYTES + block * BLOCK_BYTES + 100] ^= 0x5A
    path = tmp_path / "damaged.cwa"
    path.write_bytes(bytes(data))
    with Store.open(tmp_path / "store") as store:
        report = import_file(store, path, ImportOptions(tz="UTC"))
        gaps = store.read_table("gaps")
        raw = _raw(store)
    print(report.decisions)
    assert report.result.new_samples == 58800 - 120
    assert len(raw) == 58800 - 120
    assert (
        f"#{block} at byte {HEADER_BYTES + block * BLOCK_BYTES} (bad checksum)"
        in (report.decisions["bad_blocks"])
    )
    assert len(gaps) == 1
    assert int(gaps["first_missing_seq"].iloc[0]) == block * 120
    assert int(gaps["missing_count"].iloc[0]) == 120


def test_not_cwa_and_truncated_header_name_the_byte(tmp_path: Path) -> None:
    source = shared_file("skdh_io/ax3_sample.cwa")
    short = tmp_path / "short.cwa"
    short.write_bytes(source.read_bytes()[:700])
    with Store.open(tmp_path / "store") as store:
        with pytest.raises(ImportFormatError, match="byte 700"):
            import_file(store, short, ImportOptions())
        junk = tmp_path / "junk.cwa"
        junk.write_bytes(b"XX" + bytes(4000))
        with pytest.raises(ImportFormatError, match="not a format psoas can import"):
            import_file(store, junk, ImportOptions())


def _mutate(data: bytes, kind: str, where: float, value: int) -> bytes:
    if kind in ("truncate", "flip"):
        return mutate_bytes(data, kind, where, value)
    buf = bytearray(data)
    # inflate a length / count field: CWA header length, block length or sample count,
    # or a GENEActiv digit
    if data.startswith(b"MD"):
        blocks = max(1, (len(buf) - HEADER_BYTES) // BLOCK_BYTES)
        block = HEADER_BYTES + int(where * (blocks - 1)) * BLOCK_BYTES
        at = (2, block + 2, block + 28)[value % 3]
        buf[at : at + 2] = (0xFFFF - value % 7).to_bytes(2, "little")
        return bytes(buf)
    digits = [i for i, c in enumerate(buf[:4096]) if chr(c).isdigit()]
    buf[digits[int(where * (len(digits) - 1))]] = ord("9")
    return bytes(buf)


@pytest.mark.parametrize("name", list(FILES))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(["truncate", "flip", "inflate"]),
    where=st.floats(0.0, 1.0),
    value=st.integers(0, 1 << 16),
)
def test_fuzzed_files_import_or_fail_cleanly(
    name: str, tmp_path: Path, kind: str, where: float, value: int
) -> None:
    source = shared_file(f"skdh_io/{FILES[name]}")
    work = tmp_path / f"fuzz-{kind}-{where}-{value}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    path = work / source.name
    path.write_bytes(_mutate(source.read_bytes(), kind, where, value))
    home = work / "store"
    with Store.open(home) as store:
        before = (tree_snapshot(home), catalog_dump(home))
        try:
            report = import_file(store, path, ImportOptions(tz="UTC"))
        except PsoasError as exc:
            assert str(exc)
            assert (tree_snapshot(home), catalog_dump(home)) == before
            return
        raw = _raw(store)
    assert report.result.new_samples == len(raw) > 0
    assert np.isfinite(raw[["ax", "ay", "az"]].to_numpy()).all()
    assert raw["t"].is_monotonic_increasing or raw.sort_values("seq")["t"].is_monotonic_increasing
    with contextlib.suppress(KeyError):
        assert isinstance(report.decisions["device"], str)
    assert isinstance(pd.Timestamp(int(raw["t"].iloc[0])), pd.Timestamp)


# -- CWA chunk boundaries --------------------------------------------------------------------------
# The CWA importer decodes CHUNK_BLOCKS blocks at a time, carrying clock stitching and sample
# numbering from one chunk to the next. A long file built from the real samples (their blocks
# repeated with consecutive sequence ids and clocks, benchmarks/cwa_files.py) spans 3.5 chunks.
CHUNKS = 3.5


@pytest.fixture(scope="module")
def multi_chunk_cwa(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuiltFile]:
    folder = tmp_path_factory.mktemp("multi-chunk")
    blocks = int(CHUNKS * axivity.CHUNK_BLOCKS)
    return {
        name: build_cwa(
            folder / f"{name}.cwa", shared_file(f"skdh_io/{FILES[name]}"), blocks=blocks
        )
        for name in ("ax3", "ax6")
    }


def _read_cwa(path: Path) -> tuple[list[Batch], list[tuple[int, int]]]:
    """Every batch of ``path`` and the progress callback's (bytes done, total) calls."""
    calls: list[tuple[int, int]] = []
    importer = axivity.AxivityImporter()
    batches = list(importer.read(path, ImportOptions(tz="UTC"), lambda *call: calls.append(call)))
    return batches, calls


def _joined(batches: list[Batch], part: str) -> pd.DataFrame:
    return pd.concat([getattr(b, part) for b in batches], ignore_index=True)


def _ideal_t_ns(built: BuiltFile, seq: np.ndarray) -> np.ndarray:
    """The time (ns) the builder gave sample ``seq``: start + seq / rate."""
    return round(built.first_time_s * 1e9) + np.rint(seq * (1e9 / built.rate_hz)).astype(np.int64)


@pytest.mark.parametrize("name", ["ax3", "ax6"])
def test_cwa_chunks_decode_like_one_chunk(
    name: str, multi_chunk_cwa: dict[str, BuiltFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    built = multi_chunk_cwa[name]
    per_block = built.samples // built.units
    batches, _ = _read_cwa(built.path)
    full = axivity.CHUNK_BLOCKS * per_block
    assert [len(b.samples) for b in batches] == [full, full, full, full // 2]
    monkeypatch.setattr(axivity, "CHUNK_BLOCKS", built.units)
    whole, _ = _read_cwa(built.path)
    assert len(whole) == 1
    samples = _joined(batches, "samples")
    pd.testing.assert_frame_equal(samples, _joined(whole, "samples"), check_exact=True)
    pd.testing.assert_frame_equal(
        _joined(batches, "metrics"), _joined(whole, "metrics"), check_exact=True
    )
    seq = samples["seq"].to_numpy()
    np.testing.assert_array_equal(seq, np.arange(built.samples))
    np.testing.assert_array_equal(samples["t"].to_numpy(), _ideal_t_ns(built, seq))


@pytest.mark.parametrize("name", ["ax3", "ax6"])
@pytest.mark.parametrize("chunk_blocks", [1, 7, 128])
def test_real_cwa_decodes_the_same_in_any_chunk_size(
    name: str, chunk_blocks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # real clocks stitch blocks at arbitrary fractions of a second: the end time carried from one
    # chunk to the next must keep sub-nanosecond precision (it once lost up to ~0.1 us)
    path = shared_file(f"skdh_io/{FILES[name]}")
    whole, _ = _read_cwa(path)
    assert len(whole) == 1
    monkeypatch.setattr(axivity, "CHUNK_BLOCKS", chunk_blocks)
    parts, _ = _read_cwa(path)
    assert len(parts) > 1
    pd.testing.assert_frame_equal(
        _joined(parts, "samples"), _joined(whole, "samples"), check_exact=True
    )
    pd.testing.assert_frame_equal(
        _joined(parts, "metrics"), _joined(whole, "metrics"), check_exact=True
    )


SMALL_CHUNK_BLOCKS = 400  # the store round trip of the 3.5-chunk file above would take seconds


@pytest.mark.parametrize(
    "offsets",
    [(-1,), (0,), (-1, 0)],
    ids=["last-block-of-a-chunk", "first-block-of-the-next", "both"],
)
def test_bad_checksum_at_a_chunk_boundary_is_skipped_and_becomes_a_gap(
    offsets: tuple[int, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(axivity, "CHUNK_BLOCKS", SMALL_CHUNK_BLOCKS)
    source = shared_file(f"skdh_io/{FILES['ax3']}")
    built = build_cwa(tmp_path / "long.cwa", source, blocks=int(CHUNKS * SMALL_CHUNK_BLOCKS))
    per_block = built.samples // built.units
    bad = [2 * SMALL_CHUNK_BLOCKS + k for k in offsets]  # around the second chunk boundary
    data = bytearray(built.path.read_bytes())
    for block in bad:
        data[HEADER_BYTES + block * BLOCK_BYTES + 100] ^= 0x5A
    path = tmp_path / "damaged.cwa"
    path.write_bytes(bytes(data))
    with Store.open(tmp_path / "store") as store:
        report = import_file(store, path, ImportOptions(tz="UTC"))
        gaps = store.read_table("gaps")
        raw = _raw(store)
    print(report.decisions["bad_blocks"])
    assert report.decisions["bad_blocks"].startswith(f"{len(bad)} data block(s) skipped")
    for block in bad:
        where = f"#{block} at byte {HEADER_BYTES + block * BLOCK_BYTES} (bad checksum)"
        assert where in report.decisions["bad_blocks"]
    missing = np.arange(bad[0] * per_block, (bad[-1] + 1) * per_block)
    assert report.result.new_samples == len(raw) == built.samples - len(missing)
    seq = raw["seq"].to_numpy()
    np.testing.assert_array_equal(seq, np.setdiff1d(np.arange(built.samples), missing))
    np.testing.assert_array_equal(raw["t"].to_numpy(), _ideal_t_ns(built, seq))
    assert len(gaps) == 1
    gap = gaps.iloc[0]
    assert int(gap["first_missing_seq"]) == missing[0]
    assert int(gap["missing_count"]) == len(missing)
    before, after = _ideal_t_ns(built, np.array([missing[0] - 1, missing[-1] + 1]))
    assert before <= int(gap["start"]) <= int(gap["end"]) <= after


def test_cwa_progress_rises_to_the_file_size(multi_chunk_cwa: dict[str, BuiltFile]) -> None:
    built = multi_chunk_cwa["ax3"]
    _, calls = _read_cwa(built.path)
    done = [d for d, _ in calls]
    assert len(calls) > 1
    assert {total for _, total in calls} == {built.size_bytes}
    assert done == sorted(done)
    assert done[0] == HEADER_BYTES + axivity.CHUNK_BLOCKS * BLOCK_BYTES
    assert done[-1] == built.size_bytes
