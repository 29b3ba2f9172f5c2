"""``evaluate()``: every metric of one synthetic set against real train and holdout, as a Report.

Holdout rows (never trained on) are the reference; train rows are shown beside them. Fidelity and
utility metrics are also computed for the ``independent`` baseline (each column sampled on its own)
so that a good per-code fit is never mistaken for fidelity.
"""
from __future__ import annotations

import time

import numpy as np

from ..errors import DataError
from ._common import as_matrix, check_kind, check_same_columns, rng_for
from .baseline import independent_baseline

PARTS = {"fidelity": ("probability", "cooccurrence", "discriminator", "continuous"),
         "utility": ("prediction", "classifier"),
         "privacy": ("membership", "dcr", "copies", "uniqueness", "attribute", "epsilon")}
_WEIGHTS = {"prediction": 3, "classifier": 3, "neighbours": 4}
_ATTACK_KEYS = {"fractions", "thresholds", "sizes", "seeds", "member_share"}


def _align(ds, codes, name: str):
    """Matrix of a Dataset (columns reordered to ``codes`` when it has the same set) or of an array."""
    X = as_matrix(ds, name)
    other = getattr(ds, "codes", None)
    if codes is None or other is None or list(other) == list(codes):
        return X
    if sorted(map(str, other)) != sorted(map(str, codes)):
        diff = sorted(set(map(str, other)) ^ set(map(str, codes)))
        raise DataError(f"The code columns of {name} do not match the training data's ({len(diff)} differ, "
                        f"e.g. {diff[0]!r}).")
    pos = {str(c): i for i, c in enumerate(other)}
    return X[:, [pos[str(c)] for c in codes]]


def _resolve_include(include) -> list[str]:
    names = [include] if isinstance(include, str) else list(include)
    out = []
    for n in names:
        if n in PARTS:
            out.extend(PARTS[n])
        elif any(n in p for p in PARTS.values()):
            out.append(n)
        else:
            known = ", ".join([*PARTS, *[p for ps in PARTS.values() for p in ps]])
            raise DataError(f"Unknown metric or section {n!r} in include; use {known}.")
    return [p for ps in PARTS.values() for p in ps if p in out]


class _Progress:
    def __init__(self, cb, parts):
        self.cb, self.done = cb, 0.0
        self.total = float(sum(_WEIGHTS.get(p, 1) for p in parts))

    def step(self, part: str, frac: float = 1.0) -> None:
        if self.cb is not None:
            self.cb(min(self.done + _WEIGHTS.get(part, 1) * frac, self.total), self.total)

    def finish(self, part: str) -> None:
        self.done += _WEIGHTS.get(part, 1)
        self.step(part, 0.0)


def evaluate(train, holdout, synthetic, *, kind: str | None = None, codes=None, titles=None, label=None,
             y_train=None, y_holdout=None, y_synthetic=None, top_k: int = 100, prediction_top_k: int = 20,
             seed: int = 0, epsilon: float | None = None, thresholds: dict | None = None,
             include=("fidelity", "utility", "privacy"), baseline: bool = True, attack: dict | None = None,
             rare_k: int = 10, max_rows: int | None = None, progress=None) -> "Report":
    """Evaluate ``synthetic`` against real ``train`` and ``holdout`` (arrays, sparse matrices or Datasets).

    ``label`` is the label column (index, or code name) for TSTR when the generator was trained on
    ``[X, y]``; otherwise pass ``y_train``/``y_holdout``/``y_synthetic`` (Datasets' ``labels`` are
    used when present). ``include`` takes section names and/or metric names (see ``PARTS``).
    ``attack`` overrides membership-attack settings (``fractions``, ``thresholds``, ``sizes``,
    ``seeds``, ``member_share``). ``thresholds`` override :data:`DEFAULT_THRESHOLDS`.
    ``progress(done, total)`` is called as work completes (abstract units).
    """
    from ..report import DEFAULT_THRESHOLDS, Metric, Report  # report imports metrics: import it late

    rng_for(seed)
    codes = list(codes) if codes is not None else getattr(train, "codes", None)
    titles = titles if titles is not None else getattr(train, "titles", None) or {}
    kind = kind or getattr(train, "kind", None)
    Tr = _align(train, codes, "the training data")
    Ho = _align(holdout, codes, "the holdout data")
    Sy = _align(synthetic, codes, "the synthetic data")
    check_same_columns(Tr, "the training data", (Ho, "the holdout data"), (Sy, "the synthetic data"))
    if codes is not None and len(codes) != Tr.shape[1]:
        raise DataError(f"{len(codes)} code names were given for {Tr.shape[1]} columns.")
    kind = check_kind(kind, Tr, "the training data")
    for X, name in ((Ho, "the holdout data"), (Sy, "the synthetic data")):
        check_kind(kind, X, name)
    y_train = y_train if y_train is not None else getattr(train, "labels", None)
    y_holdout = y_holdout if y_holdout is not None else getattr(holdout, "labels", None)
    y_synthetic = y_synthetic if y_synthetic is not None else getattr(synthetic, "labels", None)
    label_index = _label_index(label, codes, Tr.shape[1])
    unknown = set(attack or {}) - _ATTACK_KEYS
    if unknown:
        raise DataError(f"Unknown attack setting(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(_ATTACK_KEYS))}.")
    parts = _resolve_include(include)
    th = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    rep = Report(thresholds=th, meta={
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "kind": kind, "n_train": Tr.shape[0],
        "n_holdout": Ho.shape[0], "n_synthetic": Sy.shape[0], "n_codes": Tr.shape[1], "seed": seed,
        "top_k": top_k, "prediction_top_k": prediction_top_k, "epsilon": epsilon, "label": label,
        "include": parts, "timings": {}})
    prog = _Progress(progress, parts + (["neighbours"] if {"membership", "dcr"} & set(parts) else []))
    B = independent_baseline(Tr, Sy.shape[0], seed, kind=kind) if baseline else None
    ctx = dict(Tr=Tr, Ho=Ho, Sy=Sy, B=B, kind=kind, codes=codes, titles=titles, seed=seed, top_k=top_k,
               label_index=label_index, y=(y_train, y_holdout, y_synthetic), rare_k=rare_k,
               max_rows=max_rows, epsilon=epsilon, attack=dict(attack or {}), ptk=prediction_top_k, nn=None, prog=prog)

    def add(section, name, value, direction, label, chance=None, baseline=None, details=None):
        getattr(rep, section)[name] = Metric(value, direction, label, th.get(name), chance, None, baseline,
                                             details or {})

    from . import _parts
    for part in parts:
        t0 = time.perf_counter()
        try:
            getattr(_parts, part)(ctx, add)
        except DataError as e:
            rep.skipped.append({"metric": part, "reason": str(e)})
        rep.meta["timings"][part] = round(time.perf_counter() - t0, 3)
        prog.finish(part)
    if ctx["nn"] is not None:
        rep.meta["neighbours"] = ctx["nn"].stats
    return rep


def _label_index(label, codes, m: int) -> int | None:
    if label is None:
        return None
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if not -m <= int(label) < m:
            raise DataError(f"The label column {label} is outside the {m} columns.")
        return int(label) % m
    if codes is not None and str(label) in [str(c) for c in codes]:
        return [str(c) for c in codes].index(str(label))
    raise DataError(f"The label column {label!r} is not one of the code columns.")

