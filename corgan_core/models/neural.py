"""The scaffolding corGAN, medGAN and the VAE share, written once.

:class:`NeuralModel` does, for every neural model: config checks common to all (choices, minimums,
DP settings, no minibatch averaging under DP), the per-column transform (stored with the model,
inverted on sampling), class conditioning on a labelled table's label column, the decoder's
output-bias start from the codes' log-odds, the validation split that stops autoencoder
pretraining early (and ``trained_rows_``), early stopping that keeps the best autoencoder, the DP
set-up (one :class:`~.dp.PrivacyBudget` for the model's private streams), the epsilon added to
every epoch's losses, the state common to all checkpoints, and chunked generation.

A subclass implements ``build`` (networks), ``make_optimizers`` (its optimisers, built on first
use: a model restored only to sample never builds one, and never pays ``torch.optim``'s first-call
import of ``torch._dynamo``), ``dp_plan``/``make_private`` (its
private streams), ``run_epoch`` (one epoch of one phase), ``decode_noise`` (generation from
noise and class indices), ``output_bias_param`` and ``model_state``/``load_model_state``.

Conditioning: when the model's ``conditional`` option is on and ``meta_["label"]`` names one of
``meta_["codes"]`` (the run layer and ``fit(Dataset)`` set both), that column is a class label: it
is taken out of the features, each training row carries its class as a one-hot (``data_`` holds
``[features, one-hot]``), the networks are built for ``n_classes_`` classes, and sampling draws
classes with the training shares and puts their values back in the label column.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ..distributed import shard_rows
from ..errors import ConfigError
from . import dp
from . import marginals as marg
from .base import EpochResult, GenerativeModel, as_rows, option, resolve_device
from .optimizers import LazyOptimizers
from .rowstore import fit_transform, store_rows
from .transforms import CONTINUOUS

VAL_CELLS = 2**25  # at most 128 MB of dense validation rows (7,000 x 881 codes is 6.2M cells)
MAX_CLASSES = 50  # a label with more distinct values is learned as an ordinary column
_TRANSFORM_READS = {"standard": "exact mean and standard deviation", "quantile": "exact empirical quantiles"}



@dataclass(frozen=True)
class NeuralOptions:
    """Options every neural model has (its Config inherits them)."""

    continuous_transform: str = option(
        "standard", "Continuous data: per-column transform before the networks: standard (z-score; real-valued "
        "outputs), quantile (empirical CDF then normal scores; real-valued outputs) or minmax ([min, max] -> "
        "[0, 1] through a sigmoid, as released).", CONTINUOUS)
    conditional: bool = option(
        True, "Labelled tables: condition the networks on the label column (sampling draws labels with the "
        "training shares); false learns the label as an ordinary column.")
    marginals: str = option("exact", marg.HELP_MARGINALS, marg.MARGINALS)
    marginals_epsilon: float = option(1.0, marg.HELP_EPSILON)


class NeuralModel(LazyOptimizers, GenerativeModel):
    """Base of the neural models (see the module docstring)."""

    DP_COVERS = ""
    CHUNK = 512  # rows per generation call: with the fast decoder layers 512 made 30,000 corGAN rows ~20% faster than 1,024 (cache), bit-identical

    @property
    def private(self) -> bool:
        return dp.dp_enabled(self.config)

    def validate(self) -> None:
        super().validate()
        dp.check_dp_config(self.config)
        marg.check(self.config)
        if self.private and getattr(self.config, "minibatch_averaging", False):
            raise ConfigError("Minibatch averaging mixes records, so DP-SGD cannot bound one record's "
                              "influence; set minibatch_averaging to false when DP is on.")

    # ---- set-up ---------------------------------------------------------------------------------
    def setup(self, X, kind, seed, device):
        self.validate()
        c = self.config
        X = as_rows(X)  # CSR stays CSR: code matrices are never densified whole (rowstore.py)
        self.kind_, self.device_ = kind, resolve_device(device)
        X, y = self._take_label(X)
        self.n_codes_ = X.shape[1]
        self.scaler_, S = fit_transform(X, kind, getattr(c, "continuous_transform", "standard"))
        self.noisy_freq_ = None
        if getattr(c, "marginals", "exact") == "noisy" and self.scaler_.real_valued:
            raise ConfigError(f"marginals=noisy noises per-code frequencies, but the {self.scaler_.method} transform "
                              f"keeps each column's {_TRANSFORM_READS[self.scaler_.method]}; use continuous_transform=minmax.")
        if getattr(c, "marginals", "exact") == "noisy":
            self.noisy_freq_ = marg.noisy_frequencies(S, c.marginals_epsilon, seed)
        torch.manual_seed(seed)
        self._forget_optimizers()
        self.build()
        self.optimizers()  # training needs them; built now so that DDP and DP-SGD see them (distributed.wrap)
        self._init_output_bias(S)
        rows = self._validation_split(S.shape[0], seed)
        kept, mine = shard_rows(rows[self.n_val_:])  # under torchrun each rank trains its own share
        self.trained_rows_ = np.sort(kept)
        if y is not None:
            data = sp.hstack([S, self._one_hot(y)], format="csr") if sp.issparse(S) else np.hstack([S, self._one_hot(y)])
        else:
            data = S
        self.data_ = store_rows(data[mine], self.device_)  # a RowStore (batches densified on the device) or a tensor
        val = data[rows[:self.n_val_]]
        self.val_ = store_rows(val.toarray() if sp.issparse(val) else val, self.device_) if self.n_val_ else None
        self.best_val_, self.bad_epochs_, self.best_ae_ = float("inf"), 0, None
        self.budget_ = None
        if self.private:
            self.budget_ = dp.PrivacyBudget(c, len(self.data_), self.dp_plan(len(self.data_)))
            self.make_private()
        self.meta_["privacy"] = self.privacy_info()

    def _take_label(self, X: np.ndarray):
        """``(features, class indices or None)``; sets ``label_`` and ``n_classes_``."""
        self.label_, self.n_classes_ = None, 0
        name, codes = self.meta_.get("label"), self.meta_.get("codes")
        if not getattr(self.config, "conditional", False) or not name or not codes or name not in codes:
            return X, None
        if len(codes) != X.shape[1]:
            raise ConfigError(f"The model's vocabulary has {len(codes)} codes but the data has {X.shape[1]} columns.")
        j = list(codes).index(name)
        values, y = np.unique(X[:, j].toarray().ravel() if sp.issparse(X) else X[:, j], return_inverse=True)
        if len(values) > MAX_CLASSES:
            return X, None
        self.label_ = {"index": j, "values": values.astype(np.float64),
                       "shares": np.bincount(y, minlength=len(values)) / len(y)}
        self.n_classes_ = len(values)
        return X[:, np.delete(np.arange(X.shape[1]), j)], y

    def _one_hot(self, y: np.ndarray) -> np.ndarray:
        out = np.zeros((len(y), self.n_classes_), np.float32)
        out[np.arange(len(y)), y] = 1.0
        return out

    def _init_output_bias(self, S: np.ndarray) -> None:
        """Start the output bias at each code's log-odds (the values' own mean for real-valued
        outputs, which standardisation makes 0); a data-independent prior under DP."""
        param = self.output_bias_param()
        if param is None or getattr(self.config, "output_bias", "zero") != "frequency" or self.scaler_.real_valued:
            return
        if self.noisy_freq_ is not None:
            p = self.noisy_freq_
        elif self.private:  # the frequencies are not public
            p = np.full(S.shape[1], 1.0 / S.shape[1] if self.kind_ == "binary" else 0.5)
        else:
            p = np.asarray(S.mean(axis=0), np.float64).ravel()  # sparse or dense
        p = np.clip(p, 1e-4, 1 - 1e-4)
        param.data = torch.from_numpy(np.log(p / (1 - p))).float().to(self.device_)

    def _validation_split(self, n: int, seed: int) -> np.ndarray:
        """Row order for training; the first ``n_val_`` rows only serve pretraining's early stopping
        (none without pretraining or under DP: early stopping would read real data outside DP-SGD)."""
        c = self.config
        use_val = (getattr(c, "pretrain_epochs", 0) > 0 and getattr(c, "pretrain_patience", 0) > 0
                   and n >= 20 and not self.private)
        cap = max(1, VAL_CELLS // max(1, self.n_codes_))  # the validation rows are held dense
        self.n_val_ = min(int(round(n * c.val_fraction)), cap) if use_val else 0
        return np.random.default_rng(seed).permutation(n) if self.n_val_ else np.arange(n)

    # ---- hooks for subclasses -------------------------------------------------------------------
    def output_bias_param(self):
        return None

    def marginal_reads(self) -> list[str]:
        """What the model keeps real marginals for, outside DP-SGD (see :mod:`.marginals`)."""
        uses = (self.output_bias_param() is not None and getattr(self.config, "output_bias", "zero") == "frequency"
                and not self.scaler_.real_valued and (not self.private or getattr(self, "noisy_freq_", None) is not None))
        reads = ["the decoder's output-bias start"] if uses else []
        if self.scaler_.method in _TRANSFORM_READS:
            reads.append(f"the {self.scaler_.method} transform's {_TRANSFORM_READS[self.scaler_.method]}")
        return reads

    def marginals_epsilon(self) -> float:
        """Epsilon spent by the noisy marginals (0 when exact or unread)."""
        return float(self.config.marginals_epsilon) if getattr(self, "noisy_freq_", None) is not None and self.marginal_reads() else 0.0

    def dp_plan(self, n: int) -> list[tuple[int, int]]:
        raise NotImplementedError

    def make_private(self) -> None:
        raise NotImplementedError

    def run_epoch(self, phase: str, epoch: int) -> EpochResult:
        raise NotImplementedError

    def noise_dim(self) -> int:
        """Width of the noise ``decode_noise`` takes."""
        return self.config.latent_dim

    def decode_noise(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """Generated rows in the transform's space for noise ``z`` and class indices ``y``."""
        raise NotImplementedError

    def model_state(self) -> dict:
        raise NotImplementedError

    def load_model_state(self, state: dict) -> None:
        raise NotImplementedError

    # ---- shared pieces --------------------------------------------------------------------------
    def privacy_info(self) -> dict:
        """What the DP guarantee covers and the epsilon spent so far (kept in the checkpoint's meta)."""
        info = dict(dp.NO_DP) if self.budget_ is None else self.budget_.info(self.DP_COVERS)
        info.update(marg.disclosure(self.config, self.marginal_reads()))
        extra = self.marginals_epsilon()
        if self.budget_ is not None and extra:  # basic composition: DP-SGD then the Laplace release
            info["epsilon_dp_sgd"], info["epsilon"] = info["epsilon"], info["epsilon"] + extra
        return info

    def train_epoch(self, phase, epoch):
        result = self.run_epoch(phase, epoch)
        extra = self.marginals_epsilon()
        if extra:
            result.losses["marginals_epsilon"] = extra
        if self.budget_ is not None:
            result.losses["epsilon"] = self.budget_.epsilon() + extra
            self.meta_["privacy"] = self.privacy_info()
        return result

    def features(self, rows: torch.Tensor) -> torch.Tensor:
        """The feature part of ``data_`` rows (without the one-hot class)."""
        return rows[:, : self.n_codes_]

    def classes(self, rows: torch.Tensor) -> torch.Tensor | None:
        """Class indices of ``data_`` rows (None without conditioning)."""
        return rows[:, self.n_codes_:].argmax(1) if self.n_classes_ else None

    def with_class(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Generated features ``x`` next to the one-hot class of the ``rows`` they were made for."""
        return torch.cat([x, rows[:, self.n_codes_:]], 1) if self.n_classes_ else x

    def activate(self, raw: torch.Tensor) -> torch.Tensor:
        """Decoder pre-activation -> the transform's space (probabilities, [0, 1], or real values)."""
        return raw if self.scaler_.real_valued else torch.sigmoid(raw)

    def early_stop(self, losses: dict, val_loss: float, modules: dict) -> EpochResult:
        """Record ``val_loss``; stop after ``pretrain_patience`` epochs without improvement and then
        put back the best weights of ``modules`` (name -> module), not the last."""
        losses["ae_val"] = val_loss
        if not np.isfinite(self.best_val_) or val_loss < self.best_val_ - 1e-3 * abs(self.best_val_):
            self.best_val_, self.bad_epochs_ = val_loss, 0
            self.best_ae_ = {k: copy.deepcopy(m.state_dict()) for k, m in modules.items()}
        else:
            self.bad_epochs_ += 1
        stop = self.config.pretrain_patience > 0 and self.bad_epochs_ >= self.config.pretrain_patience
        if stop and self.best_ae_ is not None:
            for k, m in modules.items():
                m.load_state_dict(self.best_ae_[k])
        return EpochResult(losses, stop=stop)

    # ---- state ----------------------------------------------------------------------------------
    def get_state(self):
        label = None if self.label_ is None else {
            "index": int(self.label_["index"]), "values": torch.from_numpy(self.label_["values"]),
            "shares": torch.from_numpy(np.asarray(self.label_["shares"], np.float64))}
        return {"kind": self.kind_, "n_codes": self.n_codes_, "scaler": self.scaler_.state(), "label": label,
                "best_val": self.best_val_, "bad_epochs": self.bad_epochs_, "best_ae": self.best_ae_,
                "privacy": self.budget_.state() if self.budget_ is not None else None,
                "optims": self.optimizer_states(), **self.model_state()}

    def set_state(self, state):
        self.load_model_state(state)
        states = state.get("optims")
        if states is None and "optim" in state:  # a VAE checkpoint from before the shared "optims" key
            states = {"net": state["optim"]}
        self.load_optimizer_states(states or {})
        self.best_val_ = float(state.get("best_val", float("inf")))
        self.bad_epochs_ = int(state.get("bad_epochs", 0))
        self.best_ae_ = state.get("best_ae")
        if self.budget_ is not None:
            self.budget_.load(state.get("privacy"))
            self.meta_["privacy"] = self.privacy_info()

    def restore(self, state, device="cpu"):
        lab = state.get("label")
        self.label_ = None if lab is None else {"index": int(lab["index"]), "values": lab["values"].numpy(),
                                                "shares": lab["shares"].numpy()}
        self.n_classes_ = 0 if lab is None else len(self.label_["values"])
        self.budget_ = None  # a model that only samples spends no privacy
        self._forget_optimizers()
        super().restore(state, device)  # builds the networks only: the optimizers wait for a training step

    # ---- sampling -------------------------------------------------------------------------------
    def sparse_sample_is_sample(self):
        return self.kind_ == "binary"  # the noise and the Bernoulli draws run in the same order (base.py)

    @torch.no_grad()
    def _generate_rows(self, n, generator):
        y = None
        if self.n_classes_:
            shares = torch.as_tensor(self.label_["shares"], dtype=torch.float64)
            y = torch.multinomial(shares, n, replacement=True, generator=generator)
        out = []
        for start in range(0, n, self.CHUNK):
            m = min(self.CHUNK, n - start)
            z = torch.randn(m, self.noise_dim(), generator=generator).to(self.device_)
            yc = None if y is None else y[start:start + m].to(self.device_)
            out.append(self.decode_noise(z, yc).cpu().numpy())
        P = np.concatenate(out).astype(np.float32, copy=False)  # float32 already: no second copy
        return P, (None if y is None else self.label_["values"][y.numpy()])
