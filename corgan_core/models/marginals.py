"""Real marginals a model keeps outside DP-SGD: disclosed, and optionally noised (Laplace).

Some models read each code's training frequency directly: corGAN's and the VAE's/medGAN's decoder
output bias starts at the codes' log-odds, corGAN's frequency-matching penalty fits them, and the
independent baseline samples from them. None of that goes through DP-SGD, so a privacy reviewer
must be told. Every model records ``meta_["privacy"]["marginals"]``: ``"exact"`` (the real
frequencies are in the model), ``"noisy"`` (Laplace noise on the counts, ``marginals_epsilon``-DP
for that release) or ``"none"`` (no frequency is read), with ``marginals_note`` (one sentence).

Noisy counts: for each column the sum of the values scaled to [0, 1] (binary: the number of
patients with the code). Adding or removing one patient moves every column's sum by at most 1, so
the L1 sensitivity of the whole vector is the number of columns and the Laplace scale is
``n_columns / epsilon``. The number of rows and each column's range are treated as public (as the
DP-SGD guarantee already does).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError

MARGINALS = ("exact", "noisy")
HELP_MARGINALS = ("Per-code frequencies the model reads outside DP-SGD (decoder output-bias start, frequency "
                  "matching, independent sampling): exact (the real ones, disclosed in the model's privacy "
                  "record) or noisy (Laplace noise on the counts, marginals_epsilon-DP, added to the run's epsilon).")
HELP_EPSILON = "Epsilon of the noisy marginals' Laplace release (marginals=noisy)."


def marginals_record(meta: dict) -> dict | None:
    """The marginals entries of a model's ``meta_`` (for the evaluation report), or None."""
    info = (meta or {}).get("privacy") or {}
    keep = {k: info[k] for k in ("marginals", "marginals_note", "marginals_epsilon") if k in info}
    return keep or None


def check(config) -> None:
    """Refuse noisy marginals without a positive epsilon (one sentence)."""
    if getattr(config, "marginals", "exact") == "noisy" and not config.marginals_epsilon > 0:
        raise ConfigError(f"marginals_epsilon must be positive when marginals is noisy; got {config.marginals_epsilon}.")


def laplace_scale(n_columns: int, epsilon: float) -> float:
    """Laplace scale on the per-column counts: L1 sensitivity (one per column) over epsilon."""
    return float(n_columns) / float(epsilon)


def noisy_frequencies(S: np.ndarray, epsilon: float, seed: int) -> np.ndarray:
    """Per-column means of ``S`` (values in [0, 1]) from Laplace-noised sums, clipped to [0, 1]."""
    S = S if sp.issparse(S) else np.asarray(S, np.float64)  # sparse rows are summed as they are
    n, d = S.shape
    rng = np.random.default_rng([int(seed), 0x6D61])  # its own stream: the model's other draws do not move
    counts = np.asarray(S.sum(axis=0), np.float64).ravel() + rng.laplace(0.0, laplace_scale(d, epsilon), size=d)
    return np.clip(counts / n, 0.0, 1.0)


def disclosure(config, reads: list[str]) -> dict:
    """The ``meta_["privacy"]`` entries for a model that reads frequencies for ``reads`` (what for;
    empty when it reads none)."""
    if not reads:
        return {"marginals": "none", "marginals_note": "The model reads no per-code frequency outside DP."}
    what = ", ".join(reads)
    if getattr(config, "marginals", "exact") == "noisy":
        eps = float(config.marginals_epsilon)
        return {"marginals": "noisy", "marginals_epsilon": eps,
                "marginals_note": f"Per-code frequencies ({what}) are Laplace-noised counts, {eps:g}-DP (added to the DP-SGD epsilon when DP is on)."}
    return {"marginals": "exact", "marginals_note": f"The model stores the exact per-code frequencies of the "
                                                    f"training rows ({what}), outside any DP guarantee."}
