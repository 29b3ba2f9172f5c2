"""corGAN's critics: the released MLP critic, and the 1-D convolutional critics of the paper
(pure, and with an MLP path that reads the raw codes). They read rows whose last ``n_cond`` columns
are the one-hot class and return one score per row, with no normalisation across rows (the
gradient penalty and DP-SGD treat each record on its own)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SPARSE_MAX_DENSITY = 0.1  # above this share of nonzeros a batch's first layer is the dense product


def _drop_if_absent(module: nn.Module, name: str, state_dict, prefix: str) -> None:
    """Turn the optional submodule ``name`` off (None) when ``state_dict`` has none of its keys: a
    checkpoint saved without it then loads and behaves as it did."""
    if getattr(module, name) is not None and not any(k.startswith(f"{prefix}{name}.") for k in state_dict):
        setattr(module, name, None)


class _Critic(nn.Module):
    """Base of the critics: a checkpoint without ``proj.*`` keys (saved before the class projection
    existed, or with ``critic_conditioning=concat``) turns the projection off, so it loads and
    scores as it did. Subclasses set ``self.proj`` (an ``nn.Linear`` or None) in ``__init__``."""

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        _drop_if_absent(self, "proj", state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class MLPCritic(_Critic):
    """Released critic: n -> 256 -> 256 -> 256 -> 1, ReLU, no sigmoid; optional minibatch averaging.
    With ``n_cond`` the last ``n_cond`` input columns are the row's one-hot class (``projection``:
    how many of them also enter a projection term, see :func:`_project`)."""

    def __init__(self, n_codes: int, minibatch_averaging: bool = False, hidden: int = 256, n_cond: int = 0,
                 projection: int = 0):
        super().__init__()
        self.mba = minibatch_averaging
        n_in = 2 * (n_codes + n_cond) if minibatch_averaging else n_codes + n_cond
        self.net = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1),
        )
        self.proj = nn.Linear(projection, hidden, bias=False) if projection else None

    def forward(self, x):
        inp = torch.cat([x, x.mean(0, keepdim=True).expand_as(x)], dim=1) if self.mba else x
        return _project(self.net, self.proj, inp, x)

    def forward_pair(self, fake, real):
        """``self(torch.cat([fake, real]))``, with the real rows' first layer as a sparse product:
        real records are mostly zeros (0.3% of Diabetes 130-US), so the critic's largest matrix
        product is skipped for half the batch. The same function, to float rounding."""
        if self.mba:
            return self(torch.cat([fake, real]))
        first = self.net[0]
        h = torch.cat([first(fake), sparse_linear(real, first)])
        return _project(self.net[1:], self.proj, h, torch.cat([fake, real]) if self.proj is not None else None)


def sparse_linear(x: torch.Tensor, linear: nn.Linear) -> torch.Tensor:
    """``linear(x)`` for a mostly-zero 2-D ``x``: each row's output is the sum of the weight columns
    of its nonzero entries, scaled by their values (``embedding_bag``, differentiable in the weight
    and bias, not in ``x``); a batch denser than ``SPARSE_MAX_DENSITY`` takes the dense product."""
    rows, cols = x.nonzero(as_tuple=True)
    if len(rows) > SPARSE_MAX_DENSITY * x.numel():
        return linear(x)
    offsets = torch.zeros(len(x), dtype=torch.long, device=x.device)
    offsets[1:] = torch.bincount(rows, minlength=len(x)).cumsum(0)[:-1]
    out = F.embedding_bag(cols, linear.weight.t(), offsets, mode="sum", per_sample_weights=x[rows, cols])
    return out if linear.bias is None else out + linear.bias


def _project(seq: nn.Sequential, proj: nn.Linear | None, inp: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``seq(inp)``, plus with ``proj`` the projection term <proj(onehot), h> (Miyato & Koyama 2018)
    on the last hidden layer h, the one-hot being the last ``proj.in_features`` columns of ``x``.
    Why: a critic that only reads the class as 2 of 180 input columns let corGAN's rest-class EEG
    rows drift to twice the real amplitude after ~400 epochs; the projection gives the class its own
    direction in the critic's features. Zero-initialised so it starts as the plain critic."""
    if proj is None:
        return seq(inp).squeeze(1)
    h = inp
    for layer in list(seq)[:-1]:
        h = layer(h)
    return (seq[-1](h).squeeze(1) + (proj(x[:, -proj.in_features:]) * h).sum(1))


def _kaiming(module: nn.Module, slope: float = 0.2) -> None:
    """He init for LeakyReLU(``slope``) layers, zero biases: starts a convolutional net with a
    usable gradient (the released N(0, 0.02) left the conv critic's input-gradient at ~3e-4)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, a=slope, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ConvCritic(_Critic):
    """The paper's 1-D convolutional critic over the code axis (ICD-ordered columns make
    neighbours related): strided Conv1d + LeakyReLU, flattened into a two-hidden-layer MLP head, so
    the output depends on every code (each conv feature sees ~160 neighbouring codes; the head
    relates features far apart, e.g. 250 and 401; one hidden layer learned a third as much in a
    critic-only probe). ``hybrid`` also feeds the raw codes to the head (conv + MLP critic). No
    normalisation: BatchNorm breaks the per-record gradient penalty and DP-SGD, and LayerNorm on
    sparse rows (most positions equal to the bias) blew the input-gradient up to ~300; Kaiming init
    starts it at ~0.25 (MLP critic: ~0.7). Minibatch averaging adds the batch mean as a second
    input channel; the row's one-hot class joins the head."""

    LAYERS = [(8, 7, 3), (16, 5, 3), (32, 5, 3), (32, 5, 2)]  # cout, kernel, stride (padding k // 2)
    WIDTH = 1.0  # channels = LAYERS' times this

    def __init__(self, n_codes: int, minibatch_averaging: bool = False, n_cond: int = 0, hidden: int = 256,
                 hybrid: bool = False, projection: int = 0):
        super().__init__()
        self.mba, self.n_codes, self.n_cond, self.hidden = minibatch_averaging, n_codes, n_cond, hidden
        self._build(self.WIDTH, hybrid)
        self.proj = nn.Linear(projection, hidden, bias=False) if projection else None
        self.reset_parameters()

    def _build(self, width: float, hybrid: bool, like: torch.Tensor | None = None) -> None:
        """The conv stack at ``width`` and the head (reading the raw codes too when ``hybrid``);
        ``like``: a tensor whose device and dtype the new layers take."""
        kw = {} if like is None else {"device": like.device, "dtype": like.dtype}
        self.width, self.hybrid = width, hybrid
        layers: list[nn.Module] = []
        cin, length = (2 if self.mba else 1), self.n_codes
        for cout, k, s in self.LAYERS:
            cout = max(1, round(cout * width))
            layers += [nn.Conv1d(cin, cout, k, s, padding=k // 2, **kw), nn.LeakyReLU(0.2)]
            cin, length = cout, (length + 2 * (k // 2) - k) // s + 1
        self.features = nn.Sequential(*layers, nn.Flatten())
        n_in = cin * length + self.n_cond + (self.n_codes if hybrid else 0)
        h = self.hidden
        self.head = nn.Sequential(nn.Linear(n_in, h, **kw), nn.LeakyReLU(0.2), nn.Linear(h, h, **kw),
                                  nn.LeakyReLU(0.2), nn.Linear(h, 1, **kw))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A checkpoint of another width or head (a run saved as gd_arch=conv before 2026-12-04 had
        # the pure critic at width 1; conv-hybrid had width 1 with the raw codes) rebuilds the
        # critic it was trained with, so it loads and scores as it did.
        conv0, head0 = state_dict.get(f"{prefix}features.0.weight"), state_dict.get(f"{prefix}head.0.weight")
        if conv0 is not None and head0 is not None:
            width = conv0.shape[0] / self.LAYERS[0][0]
            saved = (width, head0.shape[1])
            if saved != (self.width, self.head[0].in_features):
                for hybrid in (False, True):
                    self._build(width, hybrid, like=self.head[0].weight)
                    if self.head[0].in_features == head0.shape[1]:
                        break
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def reset_parameters(self) -> None:
        _kaiming(self)
        if self.proj is not None:
            nn.init.zeros_(self.proj.weight)

    def forward(self, rows):
        x, cond = rows[:, : self.n_codes], rows[:, self.n_codes:]
        h = x.unsqueeze(1)
        if self.mba:
            h = torch.cat([h, x.mean(0, keepdim=True).expand_as(x).unsqueeze(1)], dim=1)
        parts = [self.features(h), cond] + ([x] if self.hybrid else [])
        return _project(self.head, self.proj, torch.cat(parts, 1), rows)


class HybridCritic(ConvCritic):
    """Conv + MLP critic (``gd_arch=conv`` from 2026-12-04): a conv critic at half width whose head
    also reads the raw codes. Why: the pure conv critic saw about a sixth of the MLP critic's pair
    signal in a critic-only probe and reached co-occurrence R^2 0.93-0.944 on Diabetes at 600 CPU-s;
    with the raw codes beside its conv features it reached 0.970-0.974 (0.966-0.972 at full width;
    BENCHMARKS.md, Models). Half the channels cost no fidelity and make its steps cheaper."""

    WIDTH = 0.5

    def __init__(self, n_codes: int, minibatch_averaging: bool = False, n_cond: int = 0, projection: int = 0):
        super().__init__(n_codes, minibatch_averaging, n_cond, hybrid=True, projection=projection)
