"""Fuzzing the text importers (CSV with its presets, Apple Health xml and zip) like the binary
ones: mutated files either import correctly or fail with a typed PsoasError that says where,
and the store stays exactly as it was. (FIT, CWA and GENEActiv are fuzzed in their own tests.)"""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.targets import TEXT_FILES
from sensors.errors import PsoasError
from sensors.importers import ImportOptions, import_file
from sensors.store import Store
from tests.conftest import catalog_dump, mutate_bytes, shared_file, tree_snapshot


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz-originals")
    return {name: write(folder / name).read_bytes() for name, write in TEXT_FILES.items()}


def _mutate(data: bytes, kind: str, where: float, value: int) -> bytes:
    if kind in ("truncate", "flip"):
        return mutate_bytes(data, kind, where, value)
    buf = bytearray(data)
    if kind == "inflate":  # a huge number where a digit was
        digits = [i for i, c in enumerate(buf) if 48 <= c <= 57]
        at = digits[int(where * (len(digits) - 1))]
        return bytes(buf[:at] + str(10 ** (value % 40)).encode() + buf[at + 1 :])
    # "garbage": a run of random bytes spliced in
    pos = int(where * (len(buf) - 1))
    noise = np.random.default_rng(value).integers(0, 256, 1 + value % 64, dtype=np.uint8)
    return bytes(buf[:pos] + noise.tobytes() + buf[pos:])


@pytest.mark.parametrize("name", list(TEXT_FILES))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["truncate", "flip", "inflate", "garbage"]),
    where=st.floats(0.0, 1.0),
    value=st.integers(0, 1 << 16),
)
def test_mutated_text_files_import_or_fail_cleanly(originals, tmp_path, name, kind, where, value):
    work = tmp_path / f"{kind}-{where}-{value}"
    work.mkdir()
    path = work / name
    path.write_bytes(_mutate(originals[name], kind, where, value))
    _import_or_fail_cleanly(path)


def _zip_of_a_newer_version() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("apple_health_export/export.xml", "<HealthData/>")
    data = bytearray(buf.getvalue())
    central = data.index(b"PK\x01\x02")
    data[central + 6 : central + 8] = (242).to_bytes(2, "little")  # version needed: 24.2
    return bytes(data)


def _zip_with_an_encrypted_member() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("apple_health_export/export.xml", "<HealthData/>")
    data = bytearray(buf.getvalue())
    data[6] |= 1  # the local header's flags: encrypted
    data[data.index(b"PK\x01\x02") + 8] |= 1  # and the central directory's
    return bytes(data)


def _geneactiv_page_in_year_9999() -> bytes:
    data = shared_file("skdh_io/gnactv_sample.bin").read_bytes()
    at = data.index(b"Page Time:") + len(b"Page Time:")
    return data[:at] + b"9999" + data[at + 4 :]


# Inputs atheris found (./run fuzz, see docs/reliability.md) that raised untyped errors:
# file name, content, and what the error must say (None: the file imports).
FUZZER_FINDINGS = {
    "unclosed quote": (
        "generic.csv",
        lambda: b't,ax,ay,az\n1,0,0,1\n2,0,"0,1\n3,0,0,1\n',
        "line 3 (byte 23): a quoted field starts here and is never closed",
    ),
    "unknown XML encoding": (
        "export.xml",
        lambda: (
            b'<?xml version="1.0" encoding="UTF-6"?>\n<HealthData locale="en_US">\n</HealthData>\n'
        ),
        "byte 0: the XML declaration names an encoding that cannot be read",
    ),
    "zip of an unsupported version": (
        "export.zip",
        _zip_of_a_newer_version,
        "not a readable zip file (zip file version 24.2)",
    ),
    "header read differently by pandas": (
        "generic.csv",
        lambda: base64.b64decode(
            "dCxzZXEsYXgsYXksYXoMAAAAAAAAACxneCxneSxnegoxLDY3MjI1NjAwLjEuMDc1LC0wLjAxMTcy"
            "NDksMTMuNDg2NDcKMTc2NzIyNTYyMjU2MDQuNzcsNDc3LDAuKzU4NDMzMjU0NDQxMTk2LC0zLjg="
        ),
        "line 1: the header's columns",
    ),
    "control bytes in the header": (
        "TotalAcceleration.csv",
        lambda: base64.b64decode(
            "dGltZR8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8f"
            "Hx8fHx8sc2Vjb25kc19lbGFwc2VkLHoseSx4CgAAAA=="
        ),
        "line 1: the header's columns ['time']",
    ),
    "zip member without a name": (
        "export.zip",
        lambda: base64.b64decode(
            "UEsDBBQAAAAIAG2TeV3540QyhYE054/5x/bqJL2jg/8CUEsBAhQDFAAAAAgAbZN5XfmPKnbyCQAA"
            "f18AAB4AAAAAAAAAAAAAAIAAAAAAAAAABD7G1sn+yPVpnuWlFiu0+C7FsQpwb3J0LnhtbFBLBQYA"
            "AAAAAQABAEwAAAAuCgAAAAA="
        ),
        "not a readable zip file",
    ),
    "encrypted zip member": (
        "export.zip",
        _zip_with_an_encrypted_member,
        "not a readable zip file (File 'apple_health_export/export.xml' is encrypted",
    ),
    "multi-byte XML encoding": (
        "export.xml",
        lambda: (
            b'<?xml version="1.0" encoding="UTF-7"?>\n<HealthData locale="en_US">\n</HealthData>\n'
        ),
        "byte 0: the XML declaration names an encoding that cannot be read",
    ),
    "GENEActiv page time past 2262": ("mutated.bin", _geneactiv_page_in_year_9999, None),
}


@pytest.mark.parametrize("case", list(FUZZER_FINDINGS))
def test_fuzzer_findings_import_or_fail_cleanly(tmp_path, case):
    name, content, message = FUZZER_FINDINGS[case]
    path = tmp_path / name
    path.write_bytes(content())
    error = _import_or_fail_cleanly(path)
    assert error == message or (message is not None and message in str(error))


def _import_or_fail_cleanly(path: Path) -> PsoasError | None:
    """Import ``path``: it is stored with finite values, or refused with a typed error naming
    the file and the store is as it was (the error is returned)."""
    home = path.parent / "store"
    with Store.open(home) as store:
        before = (tree_snapshot(home), catalog_dump(home))
        try:
            report = import_file(store, path, ImportOptions(tz="UTC"))
        except PsoasError as exc:
            assert str(path) in str(exc) or path.name in str(exc)  # says which file
            assert (tree_snapshot(home), catalog_dump(home)) == before
            return exc
        stored = report.result.new_samples + report.result.new_metric_rows
        assert stored > 0
        for device in report.result.devices:
            samples = store.read_samples(device)
            assert np.isfinite(samples[["ax", "ay", "az"]].to_numpy()).all()
            metrics = store.read_metrics(device)
            assert np.isfinite(metrics["value"].to_numpy()).all()
    return None
