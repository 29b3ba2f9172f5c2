"""Exact nearest-neighbour distances between synthetic and real rows, at full scale.

Distances come from ``|a|² + |b|² - 2 a·b`` computed in row blocks: binary rows give the Hamming
distance exactly, in small integers (int16 where it fits); count rows give exact squared Euclidean
distances in integers; continuous rows use float64 BLAS and then recompute the chosen neighbours'
distances directly, so a verbatim copy is at distance 0. Rows are de-duplicated first (many patients
share the same few codes), the synthetic side is sparse times a dense real side, only the smallest
two values per row and the smallest per real row are kept, blocks run on two threads (or on the
GPU with ``backend="torch"`` when CUDA is there), and memory stays bounded by ``block_mb``.
"""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ._common import as_matrix, check_kind, check_same_columns, rng_for, sample_rows, to_csr, to_dense


@dataclass
class Neighbours:
    """Nearest-neighbour distances of one synthetic set against real train and holdout rows.

    ``syn_*`` arrays have one value per synthetic row (closest, and second closest for NNDR;
    NaN where a reference set has a single row). ``syn_train_eq*`` are against a seeded random
    subset of train of the holdout's size, so train and holdout compare at equal size.
    ``train_syn[i]`` / ``holdout_syn[i]`` give each real row's distance to the closest of the first
    ``sizes[i]`` synthetic rows. ``metric`` is ``"hamming"`` (binary) or ``"euclidean"``.
    """

    metric: str
    sizes: list[int]
    syn_train: np.ndarray
    syn_train_2nd: np.ndarray
    syn_holdout: np.ndarray
    syn_holdout_2nd: np.ndarray
    syn_train_eq: np.ndarray
    syn_train_eq_2nd: np.ndarray
    train_syn: np.ndarray
    holdout_syn: np.ndarray
    stats: dict = field(default_factory=dict)


def unique_rows(X) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)``: index of each distinct row's first occurrence (ascending) and, per row,
    the position of its distinct row; ``X[first][inverse]`` equals ``X``."""
    seen: dict[bytes, int] = {}
    first: list[int] = []
    inverse = np.empty(X.shape[0], dtype=np.int64)
    if sp.issparse(X):
        ind, dat, ptr = X.indices, X.data, X.indptr
        keys = (ind[ptr[i]:ptr[i + 1]].tobytes() + dat[ptr[i]:ptr[i + 1]].tobytes() for i in range(X.shape[0]))
    else:
        A = np.ascontiguousarray(X) + 0.0  # -0.0 and 0.0 are the same value
        keys = (row.tobytes() for row in A)
    for i, k in enumerate(keys):
        j = seen.setdefault(k, len(first))
        if j == len(first):
            first.append(i)
        inverse[i] = j
    return np.asarray(first, dtype=np.int64), inverse


class _Prepared:
    """Distinct rows of one matrix in the engine's representation, with squared norms."""

    def __init__(self, X, integer: bool):
        self.first, self.inverse = unique_rows(X)
        self.counts = np.bincount(self.inverse)
        self.rows = X[self.first]
        if integer:
            self.sq = np.asarray(self.rows.multiply(self.rows).sum(axis=1), dtype=np.int64).ravel()
        else:
            self.sq = np.einsum("ij,ij->i", self.rows, self.rows)


def _pick_dtype(integer: bool, max_sum: float):
    if not integer:
        return np.float64
    if max_sum < 2 ** 15 - 1:
        return np.int16
    if max_sum < 2 ** 31 - 1:
        return np.int32
    return np.float64


def _argmin_rows(D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the smallest value and the first row holding it (numpy's argmin over axis 0 is
    slow on C-ordered blocks; a pass over rows is vectorised across columns)."""
    best = D[0].copy()
    arg = np.zeros(D.shape[1], dtype=np.int64)
    for i in range(1, D.shape[0]):
        better = D[i] < best
        best[better] = D[i, better]
        arg[better] = i
    return best, arg


def _work(S_aug, RTs, a, b, n_col, counts, xp, exact):
    """Reduce one block of synthetic rows against each reference: per row the two smallest squared
    distances (and where they are), per reference row of the first ``n_col`` references the smallest."""
    blk = S_aug[a:b]
    if xp is None:
        arange = np.arange
        Ds = [np.asarray(blk @ RT) for RT in RTs]
    else:
        torch, dev = xp
        blk = torch.from_numpy(np.ascontiguousarray(blk.toarray() if sp.issparse(blk) else blk))
        blk = blk.to(dev, RTs[0].dtype)
        Ds = [blk @ RT for RT in RTs]

        def arange(n):
            return torch.arange(n, device=dev)
    r = arange(b - a)
    cols, out = [], []
    for g, (D, cnt) in enumerate(zip(Ds, counts)):
        if g < n_col:
            if xp is not None:
                arg = D.argmin(0)
                cols.append((D[arg, arange(D.shape[1])].cpu().numpy(), arg.cpu().numpy()))
            elif exact:
                cols.append(_argmin_rows(D))
            else:  # integer distances are exact: the minimum is all that is needed (and fast)
                cols.append((D.min(0), None))
        am = D.argmin(1)
        m1 = D[r, am]
        D[r, am] = _sentinel(D.dtype) if xp is None else float("inf")
        if exact or xp is not None:
            am2 = D.argmin(1)
            m2 = D[r, am2]
        else:
            am2, m2 = am, D.min(1)
        dup = cnt[am] >= 2
        m2[dup] = m1[dup]
        am2[dup] = am[dup]
        res = [m1, m2, am, am2]
        out.append([t.cpu().numpy() for t in res] if xp is not None else res)
    return a, b, cols, out


def _scan(S: _Prepared, refs: list[_Prepared], n_col: int, ends: list[int], *, integer: bool,
          block_mb: float, n_jobs: int | None, backend: str, progress):
    """Run the block reductions of distinct synthetic rows against each reference set."""
    m = S.rows.shape[1]
    dtype = _pick_dtype(integer, float(S.sq.max(initial=0)) + max(float(R.sq.max(initial=0)) for R in refs))
    RTs = []
    for R in refs:  # the real side, transposed and augmented: [-2 R^T; |r|^2; 1]
        RT = np.empty((m + 2, R.rows.shape[0]), dtype=dtype)
        for c in range(0, R.rows.shape[0], 8192):
            blk = R.rows[c:c + 8192]
            RT[:m, c:c + blk.shape[0]] = -2 * (blk.toarray() if sp.issparse(blk) else blk).T
        RT[m], RT[m + 1] = R.sq, 1
        RTs.append(RT)
    n_s = S.rows.shape[0]
    if integer:
        extra = sp.csr_matrix(np.column_stack([np.ones(n_s), S.sq]))
        S_aug = sp.hstack([S.rows, extra], format="csr", dtype=dtype)
    else:
        S_aug = np.hstack([S.rows, np.ones((n_s, 1)), S.sq[:, None]])
    use_torch = backend == "torch" or (backend == "auto" and _cuda())
    xp = None
    counts = [R.counts for R in refs]
    if use_torch:
        import torch
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        tdt = torch.float32 if dtype == np.int16 else torch.float64  # float32 is exact below 2**24
        RTs = [torch.from_numpy(RT.astype(np.float64)).to(dev, tdt) for RT in RTs]
        counts = [torch.from_numpy(c).to(dev) for c in counts]
        xp = (torch, dev)
    width = sum(R.rows.shape[0] for R in refs)
    itemsize = 8 if use_torch or dtype == np.float64 else np.dtype(dtype).itemsize
    chunk = max(1, int(block_mb * 2 ** 20 // max(1, width * itemsize)))
    cuts = sorted(set(range(0, n_s, chunk)) | set(ends) | {n_s})
    blocks = list(zip(cuts[:-1], cuts[1:]))
    jobs = 1 if (use_torch or not integer) else (n_jobs or min(2, os.cpu_count() or 1))
    rows = [[np.empty(n_s, dtype=np.float64) for _ in range(4)] for _ in refs]
    cmin = [np.full(R.rows.shape[0], np.inf) for R in refs[:n_col]]
    carg = [np.zeros(R.rows.shape[0], dtype=np.int64) for R in refs[:n_col]]
    snaps = {}

    def run(ab):
        return _work(S_aug, RTs, ab[0], ab[1], n_col, counts, xp, not integer)

    with ThreadPoolExecutor(jobs) as ex:
        for a, b, cols, out in (ex.map(run, blocks) if jobs > 1 else map(run, blocks)):
            for g, (cval, cidx) in enumerate(cols):
                if cidx is None:
                    np.minimum(cmin[g], cval, out=cmin[g])
                else:
                    better = cval < cmin[g]
                    cmin[g][better] = cval[better]
                    carg[g][better] = cidx[better] + a
            for dst, src in zip(rows, out):
                for d, v in zip(dst, src):
                    d[a:b] = v
            if b in ends:
                snaps[b] = [(c.copy(), i.copy()) for c, i in zip(cmin, carg)]
            if progress is not None:
                progress(b, n_s)
    if not use_torch:
        for res in rows:
            res[1][res[1] >= _sentinel(dtype)] = np.inf
    return rows, snaps, str(np.dtype(dtype)), ("torch" if use_torch else "numpy")


def _sentinel(dtype):
    """The value that marks "no second neighbour" in a block of this dtype."""
    return np.iinfo(dtype).max if np.issubdtype(dtype, np.integer) else float("inf")


def _distances(res, j: int, S: _Prepared, R: _Prepared, integer: bool, metric: str) -> np.ndarray:
    """Per original synthetic row: result ``j`` (0 closest, 1 second) as distances, NaN if none."""
    v = res[j][S.inverse]
    ok = np.isfinite(v)
    if not integer:
        v[ok] = _exact(S.rows, R.rows, S.inverse[ok], res[j + 2][S.inverse][ok].astype(np.int64))
    elif metric == "euclidean":
        v = np.sqrt(np.maximum(v, 0.0))
    v[~ok] = np.nan
    return v


def _cuda() -> bool:
    """Whether a CUDA GPU is usable; torch is imported for this only when an NVIDIA driver is there."""
    if "torch" not in sys.modules and not (os.path.exists("/proc/driver/nvidia/version")
                                           or os.path.exists("/dev/nvidia0")):
        return False
    try:
        import torch
        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - no torch means no GPU path
        return False


def _exact(A, B, ia, ib) -> np.ndarray:
    """Euclidean distances between rows ``A[ia]`` and ``B[ib]`` pairwise, computed directly."""
    out = np.empty(len(ia))
    for c in range(0, len(ia), 4096):
        d = A[ia[c:c + 4096]] - B[ib[c:c + 4096]]
        out[c:c + 4096] = np.sqrt(np.einsum("ij,ij->i", d, d))
    return out


def _prepare_inputs(mats, kind):
    kind = check_kind(kind, mats[0][0], mats[0][1])
    for X, name in mats[1:]:
        check_kind(kind, X, name)
    integer = kind == "binary" or (kind == "count" and all(
        np.equal(np.mod(X.data if sp.issparse(X) else X, 1), 0).all() for X, _ in mats))
    conv = [to_csr(X, np.int64) if integer else to_dense(X, np.float64) for X, _ in mats]
    return kind, integer, ("hamming" if kind == "binary" else "euclidean"), conv


def nearest_neighbours(train, holdout, synthetic, *, kind: str | None = None, sizes=None, seed: int = 0,
                       progress=None, block_mb: float = 256, n_jobs: int | None = None,
                       backend: str = "auto") -> Neighbours:
    """Exact nearest-neighbour distances for the membership attack, DCR and NNDR in one pass.

    ``sizes`` are synthetic sample sizes (prefixes of ``synthetic``) for the attack; default: all of
    it. ``progress(done, total)`` is called after each block (in distinct synthetic rows).
    ``backend``: ``"numpy"``, ``"torch"`` (GPU when CUDA is available) or ``"auto"`` (torch only on GPU).
    """
    t0 = time.perf_counter()
    mats = [(as_matrix(train, "the training data"), "the training data"),
            (as_matrix(holdout, "the holdout data"), "the holdout data"),
            (as_matrix(synthetic, "the synthetic data"), "the synthetic data")]
    check_same_columns(mats[0][0], "the training data", *mats[1:])
    kind, integer, metric, (Tr, Ho, Sy) = _prepare_inputs(mats, kind)
    n_syn = Sy.shape[0]
    sizes = sorted({int(s) for s in (sizes if sizes is not None else [n_syn])})
    if sizes[0] < 1 or sizes[-1] > n_syn:
        raise DataError(f"Synthetic sample sizes must be between 1 and {n_syn}; got {sizes}.")
    eq_rows = sample_rows(Tr.shape[0], Ho.shape[0], rng_for(seed))
    S = _Prepared(Sy, integer)
    refs = [_Prepared(Tr, integer), _Prepared(Ho, integer), _Prepared(Tr[eq_rows], integer)]
    ends = [int(np.searchsorted(S.first, s)) for s in sizes]
    rows, snaps, dtype, used = _scan(S, refs, 2, ends, integer=integer, block_mb=block_mb,
                                     n_jobs=n_jobs, backend=backend, progress=progress)
    out = {}
    for name, R, res in zip(("train", "holdout", "train_eq"), refs, rows):
        out[f"syn_{name}"] = _distances(res, 0, S, R, integer, metric)
        out[f"syn_{name}_2nd"] = _distances(res, 1, S, R, integer, metric)
    cols = {}
    for gi, (name, R) in enumerate(zip(("train", "holdout"), refs[:2])):
        per = []
        for e in ends:
            cmin, carg = snaps[e][gi]
            if not integer:
                v = _exact(R.rows, S.rows, np.arange(R.rows.shape[0]), carg)
            elif metric == "euclidean":
                v = np.sqrt(np.maximum(cmin, 0.0))
            else:
                v = cmin.copy()
            per.append(v[R.inverse])
        cols[name] = np.vstack(per)
    stats = {"seconds": time.perf_counter() - t0, "backend": used, "dtype": dtype,
             "distinct_synthetic": int(S.rows.shape[0]), "distinct_train": int(refs[0].rows.shape[0]),
             "distinct_holdout": int(refs[1].rows.shape[0])}
    return Neighbours(metric, sizes, out["syn_train"], out["syn_train_2nd"], out["syn_holdout"],
                      out["syn_holdout_2nd"], out["syn_train_eq"], out["syn_train_eq_2nd"],
                      cols["train"], cols["holdout"], stats)


def closest_distances(queries, references, *, kind: str | None = None, progress=None,
                      block_mb: float = 256, backend: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Distance from each query row to its closest and second-closest reference row (exact)."""
    Q = as_matrix(queries, "the query rows")
    R = as_matrix(references, "the reference rows")
    check_same_columns(R, "the reference rows", (Q, "the query rows"))
    kind, integer, metric, (Rc, Qc) = _prepare_inputs([(R, "the reference rows"), (Q, "the query rows")], kind)
    S, ref = _Prepared(Qc, integer), _Prepared(Rc, integer)
    rows, _, _, _ = _scan(S, [ref], 0, [], integer=integer, block_mb=block_mb, n_jobs=None,
                          backend=backend, progress=progress)
    return (_distances(rows[0], 0, S, ref, integer, metric), _distances(rows[0], 1, S, ref, integer, metric))
