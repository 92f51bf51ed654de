"""Security properties of the store and of the inputs it reads.

- the store is private: its home is 0700 and every file in it 0600, whatever the umask;
- paths: ``psoas export --out`` writes exactly where the user asked and nowhere else; a file
  imported through ``..`` or a symlink is only read, and nothing is written outside the store
  (routine program names like ``../x`` are refused: tests/test_routine_cli.py);
- inputs that claim a huge size (a FIT data size, a CWA block's sample count, GENEActiv header
  fields, CSV numbers, a Bluetooth IMU batch's count) or are huge (a 256 MiB FIT file, a GENEActiv
  line without an end) are refused with a typed error, quickly, before anything of that size is
  allocated.

The dashboard's loopback binding and its token off loopback are tested in
tests/test_cli.py (test_dashboard_needs_a_store_and_a_token_off_loopback) and
tests/test_dashboard_browser.py (test_another_address_needs_the_token_on_every_request).
"""

from __future__ import annotations

import stat
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sensors.ble.profiles import imu
from sensors.ble.profiles.errors import ProfileDecodeError
from sensors.errors import PsoasError
from sensors.importers import ImportOptions, import_file
from sensors.importers.axivity import BLOCK_BYTES, HEADER_BYTES
from sensors.store import Store
from tests.conftest import REPO, catalog_dump, imu_frame, tree_snapshot

PSOAS = str(Path(sys.executable).with_name("psoas"))
PEAK_LIMIT_BYTES = 50 * 1024 * 1024
TIME_LIMIT_S = 5.0


def _write_csv(path: Path, n: int = 3000) -> Path:
    frame = imu_frame(n)
    pd.DataFrame(
        {"timestamp": frame["t"] / 1e9, **{c: frame[c] for c in ("ax", "ay", "az")}}
    ).to_csv(path, index=False)
    return path


def _files_outside(root: Path, home: Path) -> dict[str, tuple[int, bytes]]:
    """Every file and folder under ``root`` except the store ``home``, with content."""
    return {
        rel: entry
        for rel, entry in tree_snapshot(root).items()
        if not (root / rel).is_relative_to(home)
    }


# -- the store is private ----------------------------------------------------------------------
_UMASK_0 = """
import os, sys
from pathlib import Path
os.umask(0)
import psoas.cli
from sensors.store.programs import write_program_text
home, csv = sys.argv[1], sys.argv[2]
assert psoas.cli.main(["--home", home, "import", csv]) == 0
assert psoas.cli.main(["--home", home, "analyze"]) == 0
write_program_text(Path(home), "mine", "# a routine program\\n")
"""


def test_store_is_private_even_with_a_permissive_umask(tmp_path: Path):
    home = tmp_path / "deep" / "store"
    csv = _write_csv(tmp_path / "thigh.csv")
    done = subprocess.run(
        [sys.executable, "-c", _UMASK_0, str(home), str(csv)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    kinds = {"catalog": 0, "part": 0, "program": 0}
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        rel = path.relative_to(home).as_posix()
        if path.is_dir():
            assert mode == 0o700, f"folder {rel or '.'} is {mode:o}"
            continue
        assert mode == 0o600, f"file {rel} is {mode:o}"
        if rel.startswith("catalog.sqlite"):
            kinds["catalog"] += 1
        elif path.suffix == ".parquet":
            kinds["part"] += 1
        elif rel.startswith("programs/"):
            kinds["program"] += 1
    assert all(kinds.values()), f"the store lacks some kind of file: {kinds}"
    # the parents the store created for itself are private too; tmp_path itself is not its own
    assert stat.S_IMODE((tmp_path / "deep").stat().st_mode) == 0o700


# -- paths -------------------------------------------------------------------------------------
def _psoas(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [PSOAS, "--home", str(home), *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done


def test_import_through_dotdot_and_symlink_reads_only_the_file(tmp_path: Path):
    """The file is read where the path resolves to; nothing outside the store changes."""
    data = tmp_path / "data"
    data.mkdir()
    source = _write_csv(data / "thigh.csv")
    links = tmp_path / "links"
    links.mkdir()
    (links / "linked.csv").symlink_to(source)
    (links / "data-dir").symlink_to(data, target_is_directory=True)
    home = tmp_path / "store"
    before = _files_outside(tmp_path, home)
    work = tmp_path / "links"
    _psoas("import", "../data/./../data/thigh.csv", home=home, cwd=work)
    again = _psoas("import", "linked.csv", home=home, cwd=work)  # same content: a no-op
    assert "already imported" in again.stderr
    assert _files_outside(tmp_path, home) == before, "an import wrote outside the store"
    assert (links / "linked.csv").is_symlink() and (links / "data-dir").is_symlink()
    for path in home.rglob("*"):
        assert not path.is_symlink(), f"{path} in the store is a symlink"
        assert path.resolve().is_relative_to(home.resolve())
    with Store.open(home) as store:
        assert len(store.read_samples(store.devices()["device_id"].iloc[0])) == 3000


def test_export_out_writes_exactly_where_asked(tmp_path: Path):
    """--out is the user's choice (a relative path with .. included), like any CLI's: the file
    lands there, whole, and no temporary file or other file is left anywhere."""
    home = tmp_path / "store"
    _psoas("import", str(_write_csv(tmp_path / "thigh.csv")), home=home, cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    store_before = (tree_snapshot(home), catalog_dump(home))
    before = _files_outside(tmp_path, home)
    _psoas("export", "raw", "--out", "../work/../raw.csv", home=home, cwd=work)
    after = _files_outside(tmp_path, home)
    assert set(after) - set(before) == {"raw.csv"}
    assert len(pd.read_csv(tmp_path / "raw.csv")) == 3000
    assert (tree_snapshot(home), catalog_dump(home)) == store_before


# -- huge claimed sizes ------------------------------------------------------------------------
def _refused_small_and_fast(
    call: Callable[[], object], error: type[Exception], *words: str
) -> Exception:
    """``call`` raises ``error`` (whose text holds ``words``) within TIME_LIMIT_S, having
    allocated at most PEAK_LIMIT_BYTES at its peak."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(error) as caught:
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    assert elapsed < TIME_LIMIT_S, f"refusing took {elapsed:.1f} s"
    assert peak < PEAK_LIMIT_BYTES, f"peak {peak / 2**20:.0f} MiB before refusing"
    for word in words:
        assert word in str(caught.value), str(caught.value)
    return caught.value


def _refuses_import(
    tmp_path: Path, name: str, content: bytes, *words: str, sparse_bytes: int = 0
) -> None:
    """Importing ``content`` (extended with ``sparse_bytes`` zero bytes that take no disk) is
    refused small and fast, naming the file, and the store is exactly as it was."""
    path = tmp_path / name
    path.write_bytes(content)
    if sparse_bytes:
        with path.open("r+b") as handle:
            handle.truncate(len(content) + sparse_bytes)
    home = tmp_path / "store"
    with Store.open(home) as store:
        before = (tree_snapshot(home), catalog_dump(home))
        exc = _refused_small_and_fast(
            lambda: import_file(store, path, ImportOptions(tz="UTC")), PsoasError, *words
        )
        assert (tree_snapshot(home), catalog_dump(home)) == before
    assert str(path) in str(exc) or path.name in str(exc)


def test_fit_header_claiming_4_gb_of_data_in_100_bytes(tmp_path: Path):
    # FIT's data size is a u32: 0xFFFFFFF0 (4 GiB) is the most a header can claim
    header = bytes([14, 0x20]) + (2100).to_bytes(2, "little")
    header += (0xFFFF_FFF0).to_bytes(4, "little") + b".FIT" + b"\x00\x00"
    content = header + bytes(range(86))
    assert len(content) == 100
    _refuses_import(tmp_path, "huge.fit", content, "truncated")


def test_fit_file_of_256_mib_is_refused_before_it_is_read(tmp_path: Path):
    header = bytes([14, 0x20]) + (2100).to_bytes(2, "little")
    header += (2**28).to_bytes(4, "little") + b".FIT" + b"\x00\x00"
    _refuses_import(tmp_path, "huge.fit", header, "256 MiB", "64 MiB", sparse_bytes=2**28)


def _cwa_block(count: int, clock: int = 0x4A5A0000) -> bytes:
    block = bytearray(BLOCK_BYTES)
    block[0:2] = b"AX"
    block[2:4] = (BLOCK_BYTES - 4).to_bytes(2, "little")
    block[14:18] = clock.to_bytes(4, "little")
    block[25] = 0x30  # 3 axes, packed 3 x 10 bits
    block[28:30] = count.to_bytes(2, "little")
    words = np.frombuffer(bytes(block), dtype="<u2")
    block[510:512] = ((-int(words.sum())) & 0xFFFF).to_bytes(2, "little")  # a valid checksum
    return bytes(block)


def test_cwa_blocks_claiming_65535_samples_each(tmp_path: Path):
    header = bytearray(HEADER_BYTES)
    header[0:2] = b"MD"
    header[2:4] = (HEADER_BYTES - 4).to_bytes(2, "little")
    header[36] = 74  # 100 Hz, +-8 g
    content = bytes(header) + _cwa_block(0xFFFF) * 200
    _refuses_import(tmp_path, "huge.cwa", content, "byte")


_GENEACTIV_HEADER = """Device Identity
Device Unique Serial Code:999999
Device Type:GENEActiv
Measurement Frequency:1000000000000 Hz
Measurement Period:999999999 Hours
Time Zone:GMT +00:00
Calibration Data
x gain:25548
x offset:1000
y gain:25548
y offset:1000
z gain:25548
z offset:1000
Memory Status
Number of Pages:999999999999999
"""


def test_geneactiv_header_and_pages_claiming_absurd_sizes(tmp_path: Path):
    page = (
        "Recorded Data\nDevice Unique Serial Code:999999\nSequence Number:0\n"
        "Page Time:2026-01-01 00:00:00:000\nUnassigned:\nTemperature:25.0\n"
        "Battery voltage:4.0\nDevice Status:Recording\n"
        "Measurement Frequency:1000000000000 Hz\n" + "0" * 3600 + "\n"
    )
    content = (_GENEACTIV_HEADER + page * 50).replace("\n", "\r\n").encode()
    _refuses_import(tmp_path, "huge.bin", content, "no readable data page")


def test_geneactiv_line_without_an_end_is_refused_before_it_is_held(tmp_path: Path):
    page = "Recorded Data\nDevice Unique Serial Code:999999\nSequence Number:0\n"
    content = (_GENEACTIV_HEADER + page).replace("\n", "\r\n").encode()
    # 64 MiB of zero bytes and no line break after the page header
    _refuses_import(tmp_path, "endless.bin", content, "longer than", sparse_bytes=2**26)


@pytest.mark.parametrize("timestamp", ["1e300", "99999999999999999999999999999999", "-1e30", "inf"])
def test_csv_with_absurd_numbers(tmp_path: Path, timestamp: str):
    rows = ["timestamp,ax,ay,az", "1767225600.00,0,0,1", f"{timestamp},0,0,1"]
    rows += [f"{1767225600.02 + i / 100:.2f},0,0,1" for i in range(10)]
    _refuses_import(tmp_path, "huge.csv", ("\n".join(rows) + "\n").encode(), "line 3")


def test_ble_imu_batch_claiming_255_samples_in_a_header_only_notification():
    good = imu.encode_batch(
        imu.ImuBatch(
            first_seq=0,
            t0_us=1_767_225_600_000_000,
            period_ns=20_000_000,
            live=False,
            acc_range_g=16,
            gyro_range_dps=2000,
            raw=np.zeros((1, 6), dtype=np.int16),
        )
    )
    header_only = bytearray(good[: imu.HEADER_BYTES])
    header_only[2] = 255  # the count byte
    exc = _refused_small_and_fast(
        lambda: imu.decode_batch(bytes(header_only)), ProfileDecodeError, "count"
    )
    assert isinstance(exc, PsoasError)
    huge = bytes(header_only) + b"\x00" * (1 << 20)  # more bytes than any notification holds
    _refused_small_and_fast(lambda: imu.decode_batch(huge), ProfileDecodeError, "count")


def test_export_refuses_to_overwrite_a_file_of_the_store(tmp_path: Path):
    home = tmp_path / "store"
    _psoas("import", str(_write_csv(tmp_path / "thigh.csv")), home=home, cwd=tmp_path)
    before = catalog_dump(home)
    done = subprocess.run(
        [PSOAS, "--home", str(home), "export", "gaps", "--out", str(home / "catalog.sqlite")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, "an export into the store must be a usage error"
    assert "inside the store" in done.stderr
    assert catalog_dump(home) == before
