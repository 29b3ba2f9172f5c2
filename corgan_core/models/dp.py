"""DP-SGD shared by the neural models: per-record gradients, Opacus' clipping/noise and accountant.

A :class:`PrivateUpdate` owns a network whose training reads real records (a GAN's critic or
discriminator and its autoencoder pretraining, or the whole VAE). Each step:

1. the model draws a Poisson batch (:meth:`PrivacyBudget.poisson_rows`): every training row joins
   independently with probability ``q = batch_size / n``, the sampling Opacus' accountants assume;
2. one gradient per record is computed with ``torch.func`` (``vmap(grad(loss_of_one_record))``,
   which also handles losses that differentiate twice, such as the WGAN gradient penalty);
3. Opacus' :class:`~opacus.optimizers.DPOptimizer` clips each record's gradient to
   ``max_grad_norm``, adds Gaussian noise of std ``noise_multiplier * max_grad_norm``, divides by
   the expected batch size and steps the wrapped optimizer;
4. Opacus' accountant (RDP or PRV) records the step; :meth:`PrivacyBudget.epsilon` is the epsilon
   spent so far at the model's delta.

Private networks must treat records independently: no BatchNorm (GroupNorm when DP is on) and no
minibatch averaging. Whatever only sees the private networks' outputs (a GAN's generator, and a
decoder fine-tuned with it) is post-processing and spends nothing.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError

ACCOUNTANTS = ("rdp", "prv")
NO_DP = {"dp": False, "note": "DP off: no privacy guarantee."}


def dp_fields(covers: str) -> dict:
    """Help texts for the DP options of a model whose guarantee covers ``covers``."""
    return {
        "dp_epsilon": f"DP-SGD target epsilon (0 = off unless dp_noise_multiplier is set); the guarantee covers {covers}.",
        "dp_noise_multiplier": "DP-SGD noise multiplier, used when dp_epsilon is 0 (0 = no DP); the epsilon spent is recorded per epoch.",
        "dp_max_grad_norm": "DP-SGD per-record gradient clipping bound.",
        "dp_delta": "DP delta (0 = 1 / n^1.1 for n training rows).",
        "dp_accountant": "Opacus privacy accountant: rdp or prv.",
    }


def dp_enabled(config) -> bool:
    return getattr(config, "dp_epsilon", 0) > 0 or getattr(config, "dp_noise_multiplier", 0) > 0


def check_dp_config(config) -> None:
    if config.dp_epsilon < 0 or config.dp_noise_multiplier < 0:
        raise ConfigError("dp_epsilon and dp_noise_multiplier must be at least 0.")
    if config.dp_accountant not in ACCOUNTANTS:
        raise ConfigError(f"dp_accountant must be one of {', '.join(ACCOUNTANTS)}; got {config.dp_accountant!r}.")
    if not dp_enabled(config):
        return
    if config.dp_max_grad_norm <= 0:
        raise ConfigError(f"dp_max_grad_norm must be positive; got {config.dp_max_grad_norm}.")
    if not 0 <= config.dp_delta < 1:
        raise ConfigError(f"dp_delta must be in [0, 1); got {config.dp_delta}.")


def make_accountant(name: str):
    from opacus.accountants import create_accountant

    return create_accountant(mechanism=name)


def planned_steps(epochs: int, n_rows: int, batch_size: int) -> int:
    """Private steps in ``epochs`` epochs of Poisson batches of expected size ``batch_size``."""
    return int(epochs) * max(1, int(round(n_rows / max(1, min(batch_size, n_rows)))))


class PrivacyBudget:
    """The DP settings of one model: noise, sample rates, delta and Opacus' accountant.

    ``plan`` lists the private training streams as ``(batch_size, planned_steps)`` (e.g. the
    autoencoder pretraining and the critic). With a target epsilon the noise multiplier is the
    smallest for which Opacus' accountant says the whole plan spends at most that epsilon
    (bisection over sigma, as Opacus' ``get_noise_multiplier`` does, over several sample rates).
    Stopping earlier (early stopping, a time budget) spends less; the epsilon recorded per epoch
    is what was actually spent.
    """

    def __init__(self, config, n_rows: int, plan: list[tuple[int, int]]):
        self.n_rows = int(n_rows)
        self.delta = config.dp_delta if config.dp_delta > 0 else 1.0 / self.n_rows ** 1.1
        self.max_grad_norm = float(config.dp_max_grad_norm)
        self.mechanism = config.dp_accountant
        self.accountant = make_accountant(config.dp_accountant)
        self.plan = [(self.sample_rate(bs), max(1, int(steps))) for bs, steps in plan]
        if config.dp_epsilon > 0:
            self.noise_multiplier = self._calibrate(float(config.dp_epsilon))
        else:
            self.noise_multiplier = float(config.dp_noise_multiplier)

    def _plan_epsilon(self, sigma: float) -> float:
        acc = make_accountant(self.mechanism)
        acc.history = [(sigma, q, steps) for q, steps in self.plan]
        return float(acc.get_epsilon(delta=self.delta))

    def _calibrate(self, target: float, tolerance: float = 0.01) -> float:
        low, high = 0.0, 10.0
        while self._plan_epsilon(high) > target:
            high *= 2
            if high > 1e6:
                steps = sum(s for _, s in self.plan)
                raise ConfigError(f"The privacy budget epsilon={target} is too small for {steps} private "
                                  f"training steps; raise dp_epsilon or train fewer epochs.")
        eps_high = self._plan_epsilon(high)
        while target - eps_high > tolerance and high - low > 1e-4:
            mid = (low + high) / 2
            eps = self._plan_epsilon(mid)
            if eps < target:
                high, eps_high = mid, eps
            else:
                low = mid
        return high

    def sample_rate(self, batch_size: int) -> float:
        return min(1.0, batch_size / self.n_rows)

    def steps_per_epoch(self, batch_size: int) -> int:
        return max(1, int(round(1.0 / self.sample_rate(batch_size))))

    def poisson_rows(self, batch_size: int, device) -> torch.Tensor:
        """Indices of one Poisson-sampled batch (global torch RNG, so epochs replay exactly)."""
        q = self.sample_rate(batch_size)
        return torch.nonzero(torch.rand(self.n_rows, device=device) < q).squeeze(1)

    def record_step(self, sample_rate: float) -> None:
        self.accountant.step(noise_multiplier=self.noise_multiplier, sample_rate=sample_rate)

    def epsilon(self) -> float:
        if len(self.accountant.history) == 0:
            return 0.0
        return float(self.accountant.get_epsilon(delta=self.delta))

    def state(self) -> dict:
        return {"history": [[float(a), float(b), int(c)] for a, b, c in self.accountant.history],
                "noise_multiplier": float(self.noise_multiplier)}

    def load(self, state: dict | None) -> None:
        if state:
            self.accountant.history = [(float(a), float(b), int(c)) for a, b, c in state["history"]]

    def info(self, covers: str) -> dict:
        """What the guarantee covers and how much of it is spent, for the run record."""
        eps = self.epsilon()
        return {
            "dp": True, "covers": covers, "epsilon": eps, "delta": self.delta,
            "noise_multiplier": self.noise_multiplier, "max_grad_norm": self.max_grad_norm,
            "sample_rates": [q for q, _ in self.plan], "accountant": self.mechanism,
            "note": (f"({eps:.3g}, {self.delta:.3g})-DP so far by DP-SGD (Opacus {self.mechanism} "
                     f"accountant, noise multiplier {self.noise_multiplier:.3g}, clip "
                     f"{self.max_grad_norm:g}) for {covers}."),
        }


class PrivateUpdate:
    """DP-SGD over ``module``'s parameters with Poisson batches of expected size ``batch_size``."""

    def __init__(self, module: nn.Module, optimizer: torch.optim.Optimizer, budget: PrivacyBudget,
                 batch_size: int):
        from opacus.optimizers import DPOptimizer

        self.module, self.budget, self.batch_size = module, budget, batch_size
        self.sample_rate = budget.sample_rate(batch_size)
        # loss_reduction="mean" divides by the EXPECTED batch size (q * n), as Opacus does for Poisson batches
        self.dp_optimizer = DPOptimizer(
            optimizer, noise_multiplier=budget.noise_multiplier, max_grad_norm=budget.max_grad_norm,
            expected_batch_size=max(1, int(round(self.sample_rate * budget.n_rows))), loss_reduction="mean",
        )

    def rows(self, device) -> torch.Tensor:
        return self.budget.poisson_rows(self.batch_size, device)

    def step(self, loss_one, *batch: torch.Tensor) -> float:
        """``loss_one(params, *one_record)`` -> scalar; the ``batch`` tensors share their first axis.

        Returns the batch's mean loss before clipping (nan for an empty batch), for the log.
        """
        from torch.func import grad_and_value, vmap

        params = {k: p.detach() for k, p in self.module.named_parameters() if p.requires_grad}
        if len(batch[0]):
            grads, values = vmap(grad_and_value(loss_one), in_dims=(None,) + (0,) * len(batch),
                                 randomness="different")(params, *batch)
            loss = float(values.mean())
        else:  # an empty Poisson batch still gets its noise (and is accounted for)
            grads = {k: torch.zeros((0, *p.shape), device=p.device) for k, p in params.items()}
            loss = float("nan")
        for k, p in self.module.named_parameters():
            if k in grads:
                p.grad_sample = grads[k].detach()
        self.dp_optimizer.step()
        self.dp_optimizer.zero_grad(set_to_none=True)
        self.budget.record_step(self.sample_rate)
        return loss
