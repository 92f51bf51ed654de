"""The worked-analysis notebooks (notebooks/): each ``.ipynb`` is the jupytext pair of its
``py:percent`` script, stored without outputs, and runs top to bottom in a fresh kernel of this
very interpreter, from a working directory outside the repository, printing the numbers it
promises (which are checked here)."""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from tests.conftest import REPO, shared_file

NOTEBOOKS = REPO / "notebooks"
CELL_TIMEOUT_S = 120
PLOTLY_MIME = "application/vnd.plotly.v1+json"

NEEDS = {  # files of ../shared/data each notebook reads
    "01_sitting_day": [],
    "02_foot_stride_mocap": [
        "gaitmap_foot/imu_sample.csv",
        "gaitmap_foot/mocap_sample.csv",
        "gaitmap_foot/stride_events_sample.csv",
    ],
    "03_routine_insights": [],
    "04_import_fit": [
        "fit/garmin-fenix-5-walk.fit",
        "fit/garmin-fenix-5-run.fit",
        "fit/activity-small-fenix2-run.fit",
        "fit/MonitoringFile.fit",
        "fit/invalid/activity-unexpected-eof.fit",
    ],
}


class ThisInterpreter(KernelSpecManager):
    """Every kernel name resolves to an IPython kernel of the interpreter running the tests, so
    no user-level or system kernelspec can swap in another Python."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            name=kernel_name,
            display_name=f"Python ({sys.executable})",
            language="python",
        )


def _cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"not printed: {pattern!r}"
    return float(found.group(1).replace(",", ""))


def check_sitting_day(out: str) -> None:
    assert abs(_number(r"sitting time error: ([+-]?\d+\.\d+) %", out)) <= 2.0
    assert _number(r"longest streak: +(\d+\.\d) min", out) >= 30
    assert _number(r"breaks per sitting hour: (\d+\.\d+)", out) > 0
    alerts = _number(r"(\d+) alerts at 30 min", out)
    assert alerts >= 1
    assert _number(r"true bouts of 30 min or more: (\d+)", out) == alerts
    assert _number(r"largest alert timing error: (\d+\.\d+) s", out) <= 2.0


def check_foot_stride(out: str) -> None:
    for side in ("left", "right"):
        found = re.search(
            rf"{side} foot: (\d+)/(\d+) reference strides matched, MAE (\d+\.\d+) %, "
            rf"bias ([+-]\d+\.\d+) cm",
            out,
        )
        assert found, f"no result printed for the {side} foot"
        matched, total, mae, bias_cm = (float(g) for g in found.groups())
        assert matched >= total - 1 and total >= 28
        assert mae <= 3.0
        assert abs(bias_cm) <= 2.0


def check_routine_insights(out: str) -> None:
    assert re.search(r"next-day longest streak: .* truth -15\.0, covered: yes", out)
    assert re.search(r"next-week stride: .* truth \+3\.0, covered: yes", out)
    assert re.search(r"level change at 2026-\d\d-\d\d: .* covered: yes", out)
    assert _number(r"null person: findings (\d+) of 20", out) == 0
    assert "No clear association" in out and "95 % CI" in out


def check_import_fit(out: str) -> None:
    assert _number(r"([\d,]+) strides\n", out) > 1000
    assert "already imported = True" in out
    assert "refused (ImportFormatError)" in out
    assert "activity-unexpected-eof.fit: byte 768" in out
    assert out.count("re-export it from the watch") == 3
    assert out.count("store unchanged: True") == 2 and "store unchanged: False" not in out
    assert "temporary store removed" in out


CHECKS: dict[str, tuple[Callable[[str], None], int]] = {  # printed numbers, plotly figures
    "01_sitting_day": (check_sitting_day, 3),
    "02_foot_stride_mocap": (check_foot_stride, 3),
    "03_routine_insights": (check_routine_insights, 3),
    "04_import_fit": (check_import_fit, 2),
}


def test_every_notebook_is_a_pair_and_is_checked():
    ipynb = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    scripts = {p.stem for p in NOTEBOOKS.glob("*.py")}
    assert ipynb == scripts == set(CHECKS) == set(NEEDS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_ipynb_is_in_sync_with_its_script_and_has_no_outputs(name: str):
    script = jupytext.read(NOTEBOOKS / f"{name}.py")
    notebook = jupytext.read(NOTEBOOKS / f"{name}.ipynb")
    assert _cells(notebook) == _cells(script), (
        f"{name}.ipynb differs from {name}.py: run `jupytext --sync notebooks/{name}.py`"
    )
    for pair in (script, notebook):
        assert pair.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    stored = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(stored)
    for cell in stored.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: stored output"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_notebook_runs_and_prints_its_numbers(name: str, tmp_path: Path):
    for relative in NEEDS[name]:
        shared_file(relative)  # a failure under CI, a skip elsewhere
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    # the kernel listens on Unix sockets in a private (0700) folder, not on TCP ports; the
    # folder's path is short, as a socket path must be (about 100 characters at most)
    with tempfile.TemporaryDirectory(prefix="psoas-kernel-") as sockets:
        manager = AsyncKernelManager(
            kernel_name="python3",
            kernel_spec_manager=ThisInterpreter(),
            transport="ipc",
            ip=str(Path(sockets) / "ipc"),
            connection_file=str(Path(sockets) / "kernel.json"),
        )
        client = NotebookClient(
            notebook,
            km=manager,
            timeout=CELL_TIMEOUT_S,
            allow_errors=False,
            resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
        )
        # raises CellExecutionError, naming the cell, on any error; shuts the kernel down
        # either way (the client does not own a kernel manager it was given)
        client.execute(cleanup_kc=True)

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    stdout = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    figures = sum(PLOTLY_MIME in o.get("data", {}) for o in outputs)
    check, min_figures = CHECKS[name]
    check(stdout)
    assert figures >= min_figures, f"{name}: {figures} plotly figures shown"
