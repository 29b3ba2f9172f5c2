"""Dimension-wise probability: each code's frequency in real vs synthetic data (medGAN, corGAN)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import (Result, as_matrix, check_kind, check_same_columns, code_name, column_mean,
                      nonzero_share, regression_summary)


@dataclass
class DimensionWiseProbability(Result):
    """Per-code statistic of real and synthetic rows with the fit of one to the other.

    ``statistic`` is ``"frequency"`` (share of patients with the code; binary and count data) or
    ``"mean"`` (continuous columns). ``r2`` treats the synthetic value as a prediction of the real
    one (1 is a perfect fit); ``furthest`` lists the codes furthest from the diagonal.
    """

    statistic: str
    real: np.ndarray
    synthetic: np.ndarray
    r2: float
    pearson: float
    rmse: float
    max_abs_error: float
    furthest: list


def dimension_wise_probability(real, synthetic, *, kind: str | None = None, codes=None, titles=None,
                               top: int = 10) -> DimensionWiseProbability:
    """Compare per-code frequencies (or column means for continuous data) of ``real`` and ``synthetic``.

    >>> r = dimension_wise_probability([[1, 0], [1, 1]], [[1, 0], [0, 1]])
    >>> r.real.tolist(), r.synthetic.tolist()
    ([1.0, 0.5], [0.5, 0.5])
    """
    R = as_matrix(real, "the real data")
    S = as_matrix(synthetic, "the synthetic data")
    check_same_columns(R, "the real data", (S, "the synthetic data"))
    kind = check_kind(kind, R, "the real data")
    stat = "mean" if kind == "continuous" else "frequency"
    fr = column_mean(R) if stat == "mean" else nonzero_share(R).astype(np.float64)
    fs = column_mean(S) if stat == "mean" else nonzero_share(S).astype(np.float64)
    summary = regression_summary(fr, fs)
    titles = titles or {}
    order = np.argsort(-np.abs(fs - fr), kind="stable")[:max(0, int(top))]
    furthest = [{"column": int(j), "code": code_name(codes, j), "title": titles.get(code_name(codes, j), ""),
                 "real": float(fr[j]), "synthetic": float(fs[j]), "difference": float(fs[j] - fr[j])}
                for j in order]
    return DimensionWiseProbability(stat, fr, fs, furthest=furthest, **summary)
