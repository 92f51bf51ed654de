from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sensors.errors import SchemaError
from sensors.schema import (
    DERIVED_TABLES,
    IMU_DTYPES,
    empty_table,
    validate_imu,
    validate_metrics,
)
from tests.conftest import imu_frame


def test_validate_imu_returns_canonical_dtypes():
    frame = imu_frame(10).astype({"ax": "float64", "seq": "int32"})
    out = validate_imu(frame)
    for col in out.columns:
        assert str(out[col].dtype) == IMU_DTYPES[col]


def test_validate_imu_names_column_and_first_bad_row():
    frame = imu_frame(10)
    frame.loc[6, "ay"] = np.nan
    with pytest.raises(SchemaError, match=r"file\.csv: column ay, row 6"):
        validate_imu(frame, where="file.csv")


def test_validate_imu_rejects_seq_that_does_not_increase():
    frame = imu_frame(10)
    frame.loc[4, "seq"] = 2
    with pytest.raises(SchemaError, match="column seq, row 4: 2 follows 3"):
        validate_imu(frame)


def test_validate_imu_rejects_time_going_backwards():
    frame = imu_frame(10)
    frame.loc[8, "t"] = frame.loc[2, "t"]
    with pytest.raises(SchemaError, match="column t, row 8"):
        validate_imu(frame)


def test_validate_imu_needs_all_three_gyro_axes():
    frame = imu_frame(5).drop(columns=["gz"])
    with pytest.raises(SchemaError, match="gyroscope needs all of gx, gy, gz"):
        validate_imu(frame)


def test_validate_imu_reports_missing_columns():
    with pytest.raises(SchemaError, match="missing column"):
        validate_imu(imu_frame(5).drop(columns=["az"]))


def test_validate_metrics_rejects_unknown_metric_with_row():
    frame = pd.DataFrame({"t": [1, 2, 3], "metric": ["steps", "speed_mps", "pace"], "value": 1.0})
    with pytest.raises(SchemaError, match="row 2: unknown metric 'pace'"):
        validate_metrics(frame)


def test_validate_metrics_rejects_non_finite_values():
    frame = pd.DataFrame({"t": [1, 2], "metric": ["steps", "steps"], "value": [1.0, np.inf]})
    with pytest.raises(SchemaError, match="column value, row 1"):
        validate_metrics(frame)


@pytest.mark.parametrize("table", list(DERIVED_TABLES))
def test_empty_tables_carry_canonical_columns(table):
    frame = empty_table(table)
    assert list(frame.columns) == list(DERIVED_TABLES[table])
    assert frame.empty
