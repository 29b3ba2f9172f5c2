"""MEDS input: a MEDS folder built from the MIMIC-III demo by the project's converter loads to the very
matrix the MIMIC loader gives; prefixes, titles and bad folders."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corgan_core.data import DataOptions, detect_source, load
from corgan_core.data.meds import mimic3_to_meds
from corgan_core.errors import DataError
from tests.conftest import assert_one_sentence, require_data


@pytest.fixture(scope="module")
def meds_dir(tmp_path_factory):
    folder = require_data("mimic3-demo")
    return mimic3_to_meds(folder, tmp_path_factory.mktemp("meds") / "mimic3-meds")


def test_the_converter_writes_a_meds_dataset(meds_dir):
    import meds

    table = pq.read_table(meds_dir / "data" / "train" / "0.parquet")
    assert table.schema.equals(meds.DataSchema.schema())
    codes = pq.read_table(meds_dir / "metadata" / "codes.parquet")
    assert codes.schema.equals(meds.CodeMetadataSchema.schema())
    assert table.num_rows == 1761 + 129  # every diagnosis row and every admission
    assert detect_source(meds_dir) == "meds"


@pytest.mark.parametrize("kind", ["binary", "count"])
@pytest.mark.parametrize("grouping", ["3digit", "none"])
def test_meds_gives_the_mimic_loaders_matrix(meds_dir, kind, grouping):
    a = load(meds_dir, DataOptions(code_prefix="ICD9CM/", kind=kind, grouping=grouping))
    b = load(require_data("mimic3-demo"), DataOptions(kind=kind, grouping=grouping))
    assert a.codes == b.codes and a.patient_ids == b.patient_ids
    assert a.X.shape == b.X.shape and (a.X != b.X).nnz == 0
    assert a.titles == b.titles and a.kind == kind
    assert a.X.shape == ((100, 275) if grouping == "3digit" else (100, 581))
    if kind == "count":
        assert a.X.max() > 1


def test_prefixes_select_codes_and_name_them(meds_dir):
    everything = load(meds_dir)
    assert "HOSPITAL_ADMISSION" in everything.codes and everything.n_codes == 582
    assert everything.titles["ICD9CM/4019"] == "Unspecified essential hypertension"
    both = load(meds_dir, code_prefix="ICD9CM/, HOSPITAL_")
    assert both.n_codes == 276 and "ICD9CM/401" in both.codes and "HOSPITAL_ADMISSION" in both.codes
    assert both.titles["ICD9CM/401"] == load(require_data("mimic3-demo")).titles["401"]


def test_a_prefix_that_matches_nothing_is_one_sentence(meds_dir):
    with pytest.raises(DataError) as info:
        load(meds_dir, code_prefix="ICD10CM/")
    assert_one_sentence(str(info.value))
    assert "ICD10CM/" in str(info.value) and "empty" in str(info.value)


def test_a_shard_without_a_code_column_is_named(tmp_path):
    (tmp_path / "m" / "data").mkdir(parents=True)
    pq.write_table(pa.table({"subject_id": [1, 2], "time": pa.array([None, None], pa.timestamp("us")),
                             "event": ["A", "B"]}), tmp_path / "m" / "data" / "0.parquet")
    with pytest.raises(DataError) as info:
        load(tmp_path / "m")
    assert_one_sentence(str(info.value))
    assert "'code'" in str(info.value) and "event" in str(info.value)


def test_a_corrupt_shard_is_one_sentence(tmp_path):
    (tmp_path / "m" / "data").mkdir(parents=True)
    (tmp_path / "m" / "data" / "0.parquet").write_bytes(b"PAR1 not really" * 20)
    with pytest.raises(DataError) as info:
        load(tmp_path / "m")
    assert_one_sentence(str(info.value))
    assert "corrupt" in str(info.value)
