"""The patient x code matrix every loader returns, and the seeded train/holdout split."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..atomic import atomic_path
from ..errors import DataError

KINDS = ("binary", "count", "continuous")


@dataclass
class Dataset:
    """A patient x code matrix with its vocabulary.

    ``X`` is a scipy.sparse CSR matrix (float32) for binary and count data and a dense float32
    array for continuous data. Columns follow ``codes`` (ICD order for diagnosis data), rows follow
    ``patient_ids``. ``titles`` maps a code to its human title where the source has one.
    ``labels`` is an optional per-patient label (e.g. the seizure class) kept out of ``X``.
    """

    X: sp.csr_matrix | np.ndarray
    codes: list[str]
    patient_ids: list[str]
    kind: str = "binary"
    titles: dict[str, str] = field(default_factory=dict)
    labels: np.ndarray | None = None
    label_name: str | None = None
    source: str = ""
    warnings: list = field(default_factory=list)  # sentences about what the loader left out

    def __post_init__(self):
        if self.kind not in KINDS:
            raise DataError(f"Unknown data kind {self.kind!r}; use one of {', '.join(KINDS)}.")
        n, m = self.X.shape
        if n == 0 or m == 0:
            raise DataError(f"The matrix from {self.source or 'the input'} is empty ({n} patients x {m} codes).")
        if len(self.codes) != m or len(self.patient_ids) != n:
            raise DataError(
                f"The vocabulary of {self.source or 'the input'} does not match its matrix "
                f"({len(self.patient_ids)} ids / {len(self.codes)} codes for {n} x {m})."
            )

    # ---- shape and summary -------------------------------------------------------------
    @property
    def n_patients(self) -> int:
        return self.X.shape[0]

    @property
    def n_codes(self) -> int:
        return self.X.shape[1]

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.X)

    def dense(self, dtype=np.float32) -> np.ndarray:
        """The matrix as a dense array."""
        return (self.X.toarray() if self.is_sparse else np.asarray(self.X)).astype(dtype, copy=False)

    @property
    def density(self) -> float:
        nnz = self.X.nnz if self.is_sparse else int(np.count_nonzero(self.X))
        return nnz / float(self.n_patients * self.n_codes)

    def codes_per_patient(self) -> np.ndarray:
        """Number of distinct non-zero codes in each row."""
        if self.is_sparse:
            return np.diff(self.X.indptr)
        return np.count_nonzero(self.X, axis=1)

    def code_frequency(self) -> np.ndarray:
        """Share of patients with each code (non-zero entry)."""
        if self.is_sparse:
            return np.asarray((self.X > 0).sum(axis=0)).ravel() / self.n_patients
        return (np.asarray(self.X) != 0).mean(axis=0)

    def summary(self, top: int = 10) -> dict:
        """Plain dict for the CLI's `data inspect` and the dashboard's Data page."""
        cpp = self.codes_per_patient()
        freq = self.code_frequency()
        order = np.argsort(-freq, kind="stable")[:top]
        return {
            "source": self.source,
            "patients": int(self.n_patients),
            "codes": int(self.n_codes),
            "kind": self.kind,
            "density": float(self.density),
            "codes_per_patient": {
                "mean": float(cpp.mean()), "median": float(np.median(cpp)),
                "min": int(cpp.min()), "max": int(cpp.max()),
            },
            "top_codes": [
                {"code": self.codes[i], "title": self.titles.get(self.codes[i], ""),
                 "frequency": float(freq[i])}
                for i in order
            ],
            "label": self.label_name,
            "warnings": list(self.warnings),
        }

    def take(self, rows) -> "Dataset":
        """A new Dataset with only the given rows (same vocabulary)."""
        rows = np.asarray(rows)
        return Dataset(
            X=self.X[rows], codes=list(self.codes),
            patient_ids=[self.patient_ids[i] for i in rows], kind=self.kind,
            titles=self.titles, labels=None if self.labels is None else self.labels[rows],
            label_name=self.label_name, source=self.source, warnings=list(self.warnings),
        )

    def label_foldable(self) -> bool:
        """Can the label become the matrix's last column without breaking the data's kind?"""
        if self.labels is None or not np.issubdtype(np.asarray(self.labels).dtype, np.number):
            return False
        y = np.asarray(self.labels, dtype=np.float64)
        if not np.isfinite(y).all():
            return False
        if self.kind == "binary":
            return bool(np.isin(y, (0.0, 1.0)).all())
        if self.kind == "count":
            return bool((y >= 0).all() and (np.mod(y, 1) == 0).all())
        return True

    def with_label_column(self) -> "Dataset":
        """The label appended as the last column, so a generator learns it with the other columns
        and synthetic rows carry a label (train-synthetic-test-real needs one)."""
        if not self.label_foldable():
            return self
        y = np.asarray(self.labels, dtype=np.float32).reshape(-1, 1)
        X = sp.hstack([self.X, sp.csr_matrix(y)], format="csr") if self.is_sparse else np.hstack([self.X, y])
        name = self.label_name or "label"
        return Dataset(X, [*self.codes, name], list(self.patient_ids), self.kind, self.titles,
                       self.labels, name, self.source)

    def sha256(self) -> str:
        """Content hash of matrix + vocabulary (recorded with each run)."""
        h = hashlib.sha256()
        X = self.X.tocsr() if self.is_sparse else np.ascontiguousarray(self.X)
        if self.is_sparse:
            for a in (X.indptr, X.indices, X.data):
                h.update(np.ascontiguousarray(a).tobytes())
        else:
            h.update(X.tobytes())
        h.update(json.dumps([self.codes, self.patient_ids, self.kind]).encode())
        return h.hexdigest()

    # ---- the project's own safe file format --------------------------------------------
    def save_npz(self, path: str | Path) -> Path:
        """Write matrix + vocabulary to one ``.npz`` (no pickles; loads with allow_pickle=False)."""
        path = Path(path)
        arrays = {
            "kind": np.array(self.kind), "codes": np.array(self.codes, dtype=str),
            "patient_ids": np.array(self.patient_ids, dtype=str),
            "title_codes": np.array(list(self.titles.keys()), dtype=str),
            "title_values": np.array(list(self.titles.values()), dtype=str),
            "source": np.array(self.source),
        }
        if self.is_sparse:
            X = self.X.tocsr()
            arrays.update(format=np.array("csr"), data=X.data, indices=X.indices,
                          indptr=X.indptr, shape=np.array(X.shape))
        else:
            arrays.update(format=np.array("dense"), matrix=np.asarray(self.X))
        if self.labels is not None:
            arrays.update(labels=np.asarray(self.labels), label_name=np.array(self.label_name or "label"))
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:  # a file object: numpy must not append its own suffix
                np.savez_compressed(fh, **arrays)
        return path


@dataclass(frozen=True)
class Split:
    """A seeded train/holdout partition of a Dataset's rows; holdout rows are never trained on."""

    train: np.ndarray
    holdout: np.ndarray
    seed: int
    holdout_fraction: float

    def to_dict(self) -> dict:
        return {"seed": self.seed, "holdout_fraction": self.holdout_fraction,
                "train": self.train.tolist(), "holdout": self.holdout.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Split":
        return cls(np.asarray(d["train"], dtype=np.int64), np.asarray(d["holdout"], dtype=np.int64),
                   int(d["seed"]), float(d["holdout_fraction"]))


DEFAULT_HOLDOUT = 0.2  # share of patients held out of training unless a run says otherwise


def split(ds: Dataset, holdout: float = DEFAULT_HOLDOUT, seed: int = 0) -> Split:
    """Seeded random split by patient; holdout 0 keeps every row for training."""
    if not 0.0 <= holdout < 1.0:
        raise DataError(f"The holdout fraction must be in [0, 1); got {holdout}.")
    n = ds.n_patients
    if n < 2:
        raise DataError(f"{ds.source or 'The data'} has only {n} patient; at least 2 are needed to train.")
    perm = np.random.default_rng(seed).permutation(n)
    n_hold = int(round(n * holdout))
    if holdout > 0:
        n_hold = min(max(n_hold, 1), n - 1)
    return Split(np.sort(perm[n_hold:]), np.sort(perm[:n_hold]), int(seed), float(holdout))
