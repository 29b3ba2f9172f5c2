"""Sparse training rows: the patient x code matrix stays CSR on the device; batches come out dense.

A code matrix of 1,000,000 patients x 10,000 codes at 0.1% density is 40 GB as one float32
tensor but 120 MB as CSR (values, column indices, row offsets). :class:`RowStore` keeps the CSR
arrays as torch tensors on the training device and densifies only the rows of a batch, there,
with the indexing the models use on ``data_``: ``store[index_tensor]`` and ``store[:n]`` give
dense float32 rows, ``len(store)`` the number of rows, ``store[:, :k]`` a store of the first
``k`` columns and ``store.mean(0)`` the column means (computed from the sparse values).

:func:`fit_transform` fits the per-column transform and applies it without densifying binary and
count data (binary: values clipped to [0, 1]; count: each column divided by its maximum, the
``minmax`` transform with 0 as low); continuous data is dense by nature and goes through
:class:`~.transforms.Transform` unchanged.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from .transforms import Transform


class RowStore:
    """CSR rows on ``device``, densified per batch (see the module docstring)."""

    def __init__(self, X: sp.spmatrix, device: torch.device | str = "cpu"):
        X = sp.csr_matrix(X, dtype=np.float32)
        X.sort_indices()
        self.shape = X.shape
        self.device = torch.device(device)
        self.crow = torch.from_numpy(X.indptr.astype(np.int64)).to(self.device)
        self.col = torch.from_numpy(X.indices.astype(np.int64)).to(self.device)
        self.val = torch.from_numpy(X.data).to(self.device)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.crow, self.col, self.val))

    def __getitem__(self, key):
        if isinstance(key, tuple):  # store[:, :k]: the first k columns (features without the one-hot)
            rows, cols = key
            if rows != slice(None) or not isinstance(cols, slice) or cols.step not in (None, 1):
                raise TypeError("RowStore takes store[:, a:b] for columns.")
            return self._columns(*cols.indices(self.shape[1])[:2])
        if isinstance(key, slice):
            start, stop, step = key.indices(self.shape[0])
            key = torch.arange(start, stop, step, device=self.device)
        return self.rows(torch.as_tensor(key, device=self.device))

    def rows(self, index: torch.Tensor) -> torch.Tensor:
        """Dense float32 rows ``index`` (a 1-D integer tensor), built on the device."""
        index = index.reshape(-1).long()
        start, stop = self.crow[index], self.crow[index + 1]
        counts = stop - start
        out = torch.zeros(len(index), self.shape[1], dtype=torch.float32, device=self.device)
        total = int(counts.sum())
        if total == 0:
            return out
        which = torch.repeat_interleave(torch.arange(len(index), device=self.device), counts, output_size=total)
        first = torch.cumsum(counts, 0) - counts  # where each batch row's entries begin in the output
        src = start[which] + torch.arange(total, device=self.device) - first[which]
        out[which, self.col[src]] = self.val[src]
        return out

    def mean(self, dim: int = 0) -> torch.Tensor:
        """Column means (``dim=0``) as a dense float32 tensor on the device."""
        if dim != 0:
            raise ValueError("RowStore.mean supports dim=0 (column means) only.")
        sums = torch.zeros(self.shape[1], dtype=torch.float64, device=self.device)
        sums.index_add_(0, self.col, self.val.double())
        return (sums / max(1, self.shape[0])).float()

    def _columns(self, a: int, b: int) -> "RowStore":
        keep = (self.col >= a) & (self.col < b)
        new = RowStore.__new__(RowStore)
        new.shape, new.device = (self.shape[0], max(0, b - a)), self.device
        new.col, new.val = self.col[keep] - a, self.val[keep]
        row_of = torch.repeat_interleave(torch.arange(self.shape[0], device=self.device), self.crow[1:] - self.crow[:-1])
        per_row = torch.bincount(row_of[keep], minlength=self.shape[0])
        new.crow = torch.cat([torch.zeros(1, dtype=torch.int64, device=self.device), torch.cumsum(per_row, 0)])
        return new


def store_rows(data, device) -> torch.Tensor | RowStore:
    """Training rows on ``device``: a :class:`RowStore` for sparse rows, one tensor for dense ones."""
    if sp.issparse(data):
        return RowStore(data, device)
    return torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32)).to(device)


def fit_transform(X, kind: str, continuous: str = "standard") -> tuple[Transform, object]:
    """``(fitted transform, transformed rows)``; sparse binary/count rows stay sparse."""
    if not sp.issparse(X):
        scaler = Transform.fit(X, kind, continuous)
        return scaler, scaler.transform(X)
    if kind not in ("binary", "count"):  # continuous columns have no sparsity to keep
        X = X.toarray()
        scaler = Transform.fit(X, kind, continuous)
        return scaler, scaler.transform(X)
    S = sp.csr_matrix(X, dtype=np.float32, copy=True)
    if kind == "binary":
        np.clip(S.data, 0.0, 1.0, out=S.data)
        S.eliminate_zeros()
        return Transform(kind, "binary", {}), S
    high = np.asarray(S.max(axis=0).toarray(), np.float64).ravel()
    high = np.maximum(high, 0.0)
    scaler = Transform(kind, "minmax", {"low": np.zeros(S.shape[1]), "high": high})
    span = np.where(high > 0, high, 1.0)  # as the dense transform's span (low is 0)
    S.data = (S.data / span[S.indices]).astype(np.float32)
    return scaler, S
