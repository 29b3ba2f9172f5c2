"""The ``independent`` baseline: every column sampled on its own from the training data.

It matches per-code frequencies by construction and knows nothing about which codes go together,
so its scores are the floor a generator must beat on co-occurrence and dimension-wise prediction.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ._common import as_matrix, check_kind, rng_for


def independent_baseline(train, n: int, seed: int = 0, *, kind: str | None = None):
    """``n`` rows drawn column by column from ``train``: Bernoulli with each code's training frequency
    for binary data, each column's empirical values otherwise. Sparse in, sparse (CSR float32) out.

    >>> X = independent_baseline([[1, 0], [1, 0]], 3, seed=0)
    >>> X.tolist()
    [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    """
    T = as_matrix(train, "the training data")
    kind = check_kind(kind, T, "the training data")
    n = int(n)
    if n < 1:
        raise DataError(f"The baseline needs at least 1 row; got {n}.")
    rng = rng_for(seed)
    n_train, m = T.shape
    if not sp.issparse(T):
        A = np.asarray(T, dtype=np.float32)
        return np.column_stack([A[rng.integers(0, n_train, n), j] for j in range(m)]) if m else A[:0]
    T = T.tocsc()
    rows, cols, vals = [], [], []
    for j in range(m):
        v = T.data[T.indptr[j]:T.indptr[j + 1]]
        v = v[v != 0]
        k = rng.binomial(n, len(v) / n_train) if len(v) else 0
        if k:
            rows.append(rng.choice(n, size=k, replace=False))
            cols.append(np.full(k, j))
            vals.append(np.ones(k, np.float32) if kind == "binary" else rng.choice(v, size=k).astype(np.float32))
    if not rows:
        return sp.csr_matrix((n, m), dtype=np.float32)
    X = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, m), dtype=np.float32)
    X.sort_indices()
    return X
