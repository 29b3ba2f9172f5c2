"""Optimizers built on first use, for every neural model (one mechanism, not one per model).

Why: ``torch.optim.Optimizer`` imports ``torch._dynamo`` on its first call (about 1.9 CPU-s here),
and a model restored only to sample (``corgan sample``, the dashboard) never steps, so it should
neither build its optimizers nor pay that import. Training always builds them (``NeuralModel.setup``
calls :meth:`LazyOptimizers.optimizers` right after ``build``, so DDP and DP-SGD see them); a
restored model keeps its checkpoint's optimizer state aside and loads it when the optimizers are
first built (the first touch of ``opt_<key>_``), and re-saving it writes that state back unchanged.
"""
from __future__ import annotations


class LazyOptimizers:
    """Mixin: a subclass implements :meth:`make_optimizers`; its steps use ``self.opt_<key>_``."""

    def make_optimizers(self) -> dict:
        """``{checkpoint key: optimizer}`` over the networks ``build`` made; each one becomes the
        attribute ``opt_<key>_``. Only :meth:`optimizers` calls it."""
        raise NotImplementedError

    def optimizers(self) -> dict:
        """The optimizers, built on the first call (``setup`` makes that call; a restored model makes
        it when a step first touches ``opt_<key>_``), with the optimizer state of the checkpoint it
        was restored from, if any."""
        built = self.__dict__.get("optims_")
        if built is None:
            built = self.make_optimizers()
            pending = self.__dict__.pop("optim_states_", None) or {}
            for key, opt in built.items():
                if key in pending:
                    opt.load_state_dict(pending[key])
                setattr(self, f"opt_{key}_", opt)  # plain attributes from now on (distributed.wrap reads vars)
            self.optims_ = built
        return built

    def optimizer_states(self) -> dict:
        """``{key: state_dict}`` for the checkpoint: the optimizers' own once built, else the state
        the model was restored with (so that re-saving a restored model keeps it)."""
        built = self.__dict__.get("optims_")
        if built is None:
            return dict(self.__dict__.get("optim_states_") or {})
        return {key: opt.state_dict() for key, opt in built.items()}

    def load_optimizer_states(self, states: dict) -> None:
        """Load ``{key: state_dict}`` into built optimizers, or keep it until they are built."""
        built = self.__dict__.get("optims_")
        if built is None:
            self.optim_states_ = dict(states)
            return
        for key, opt in built.items():
            if key in states:
                opt.load_state_dict(states[key])

    def _forget_optimizers(self) -> None:
        """New networks are about to be built: old optimizers (and state kept for them) go."""
        for key in list(self.__dict__.get("optims_") or {}):
            self.__dict__.pop(f"opt_{key}_", None)
        self.__dict__.pop("optims_", None)
        self.__dict__.pop("optim_states_", None)

    def __getattr__(self, name):
        # reached only when ordinary lookup fails: ``opt_<key>_`` before the optimizers exist builds them
        if name.startswith("opt_") and name.endswith("_") and "optims_" not in self.__dict__ and "scaler_" in self.__dict__:
            self.optimizers()
            if name in self.__dict__:
                return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def adam(params, **kwargs):
    """``torch.optim.Adam`` with PyTorch's fused kernel where every parameter is a float32 tensor on
    the CPU or a CUDA device (one kernel over all parameters: ~4x faster per step than the default
    on 2 CPU cores here, a few percent of a critic step); the same algorithm and state dict."""
    import torch

    def listed(ps):
        return [ps] if isinstance(ps, torch.Tensor) else list(ps)

    params = [dict(g, params=listed(g["params"])) if isinstance(g, dict) else g for g in listed(params)]
    tensors = [p for group in params for p in (group["params"] if isinstance(group, dict) else [group])]
    if tensors and all(t.dtype == torch.float32 and t.device.type in ("cpu", "cuda") for t in tensors):
        kwargs.setdefault("fused", True)
    return torch.optim.Adam(params, **kwargs)
