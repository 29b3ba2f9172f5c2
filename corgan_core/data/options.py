"""How to read a data source: one frozen dataclass shared by the CLI, the dashboard and runs."""
from __future__ import annotations

from dataclasses import dataclass, field

SOURCES = ("auto", "npz", "npy", "csv", "parquet", "mimic3", "mimic4", "eicu", "long", "wide-codes", "omop", "postgres", "meds", "synthea", "demo")


@dataclass(frozen=True)
class DataOptions:
    """Options for :func:`corgan_core.data.load`. Field metadata ``help`` feeds CLI and forms."""

    source: str = field(default="auto", metadata={"help": "Loader: auto, npz, npy, csv, parquet, mimic3, mimic4, eicu, long, wide-codes, omop (a .duckdb file), postgres (postgresql://user@host/db?schema=cdm), meds (a MEDS folder), synthea, demo.", "choices": SOURCES})
    kind: str = field(default="auto", metadata={"help": "auto (diagnosis codes: binary; a numeric matrix: inferred from its values), binary (code present), count (admissions with the code) or continuous (wide numeric tables).", "choices": ("auto", "binary", "count", "continuous")})
    grouping: str = field(default="3digit", metadata={"help": "ICD grouping: 3digit (ICD-9 and ICD-10 codes cut to their first 3 characters, ICD-9 E-codes to 4, as medGAN) or none (codes kept whole).", "choices": ("3digit", "none")})
    min_count: int = field(default=1, metadata={"help": "Drop codes seen in fewer than this many patients."})
    icd_version: str = field(default="both", metadata={"help": "MIMIC-IV / eICU: keep ICD 9, 10 or both (version kept in the code name).", "choices": ("both", "9", "10")})
    patient_col: str = field(default="", metadata={"help": "Patient id column of a long or wide-codes table (blank = guess)."})
    code_cols: str = field(default="", metadata={"help": "Comma-separated code column(s) (blank = guess)."})
    count_col: str = field(default="", metadata={"help": "Count column of a long table (optional)."})
    id_col: str = field(default="", metadata={"help": "Id column of a wide numeric table (optional)."})
    label_col: str = field(default="", metadata={"help": "Label column of a wide numeric table, kept out of the matrix (optional)."})
    positive: str = field(default="auto", metadata={"help": "Positive class of the label for the binary task: rows with this label become 1, all others 0 (e.g. 1 = seizure); auto = 1 for the UCI Epileptic Seizure table (X1..X178, y), otherwise the label as it is; none = always as it is."})
    domains: str = field(default="condition", metadata={"help": "OMOP: comma-separated event tables to read: condition, procedure, drug."})
    date_from: str = field(default="", metadata={"help": "OMOP: keep events on or after this date (YYYY-MM-DD; blank = no limit)."})
    date_to: str = field(default="", metadata={"help": "OMOP: keep events on or before this date (YYYY-MM-DD; blank = no limit)."})
    concepts: str = field(default="", metadata={"help": "OMOP: concept set, comma-separated concept ids or a file of them (one per line or a concept_id column); blank = all."})
    code_prefix: str = field(default="", metadata={"help": "MEDS: keep codes starting with one of these comma-separated prefixes (e.g. ICD9CM/,ICD10CM/); blank = all codes."})
