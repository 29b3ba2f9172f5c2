"""The CPU fast paths (issue 13 item 1) compute the same function as the layers they replace.

``FastConvTranspose1d`` rewrites the decoder's transposed convolutions (matrix product at length 1,
sub-pixel convolution from length 16), ``FastBatchNorm1d`` normalises from channel sums in training
mode, and ``sparse_linear`` reads sparse real records through the critic's first layer; each must
agree with PyTorch's own layer in value, gradient and running statistics, under ``torch.func``
(DP-SGD's per-record gradients) and without autograd, with the state dict unchanged.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from corgan_core.models.corgan_critics import SPARSE_MAX_DENSITY, MLPCritic, sparse_linear
from corgan_core.models.corgan_nets import DEC_TAIL, Decoder, geometry
from corgan_core.models.fast_conv import SUBPIXEL_MIN_LENGTH, FastConvTranspose1d
from corgan_core.models.fast_norm import FastBatchNorm1d


def _pair(cin, cout, k, s, bias=True, seed=0):
    torch.manual_seed(seed)
    native = nn.ConvTranspose1d(cin, cout, k, s, bias=bias)
    fast = FastConvTranspose1d(cin, cout, k, s, bias=bias)
    fast.load_state_dict(native.state_dict())
    return native, fast


def _close(a, b, tol=1e-5):
    scale = max(1.0, float(b.detach().abs().max()))
    err = float((a - b).detach().abs().max())
    assert err <= tol * scale, err


# every decoder layer shape, at the input lengths it sees for Diabetes' width (k0 from geometry)
_K0 = geometry(1071)[0]
_SHAPES = [(128, 64, _K0, 1, 1)]
_length = _K0
for _cin, _cout, _k, _s in DEC_TAIL:
    _SHAPES.append((_cin, _cout, _k, _s, _length))
    _length = (_length - 1) * _s + _k


@pytest.mark.parametrize("cin,cout,k,s,length", _SHAPES + [(3, 2, 4, 3, 20), (2, 3, 2, 5, 17)])
@pytest.mark.parametrize("bias", [True, False])
def test_fast_conv_transpose_equals_native_in_value_and_gradient(cin, cout, k, s, length, bias):
    native, fast = _pair(cin, cout, k, s, bias)
    x = torch.randn(7, cin, length, generator=torch.Generator().manual_seed(1))
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = native(xa), fast(xb)
    assert ya.shape == yb.shape
    _close(yb, ya)
    g = torch.randn_like(ya)
    (ya * g).sum().backward()
    (yb * g).sum().backward()
    _close(xb.grad, xa.grad)
    _close(fast.weight.grad, native.weight.grad, 1e-4)
    if bias:
        _close(fast.bias.grad, native.bias.grad, 1e-4)


def test_the_fast_paths_are_taken_where_the_docstring_says():
    """Length 1 and length >= SUBPIXEL_MIN_LENGTH leave the native kernel; the rewrite is not a
    no-op that happens to pass the equality test above."""
    _, fast = _pair(16, 8, 7, 3)
    long_x = torch.randn(2, 16, SUBPIXEL_MIN_LENGTH, requires_grad=True)
    assert "Subpixel" in type(fast(long_x).grad_fn).__name__
    mid_x = torch.randn(2, 16, SUBPIXEL_MIN_LENGTH - 1, requires_grad=True)
    assert "Convolution" in type(fast(mid_x).grad_fn).__name__


def test_fast_conv_under_torch_func_and_no_grad():
    native, fast = _pair(16, 8, 7, 3)
    x = torch.randn(5, 16, 40)
    with torch.no_grad():
        _close(fast(x), native(x))
    params = {k: v.detach() for k, v in native.named_parameters()}

    def loss(module):
        def f(p, xi):
            return torch.func.functional_call(module, p, (xi.unsqueeze(0),)).square().sum()
        return f

    per_a = torch.func.vmap(torch.func.grad(loss(native)), in_dims=(None, 0))(params, x)
    per_b = torch.func.vmap(torch.func.grad(loss(fast)), in_dims=(None, 0))(params, x)
    for name in params:
        _close(per_b[name], per_a[name], 1e-4)


def test_decoder_state_dict_is_the_native_one():
    """A checkpoint of the native decoder loads into the fast one and gives the same logits."""
    dec = Decoder(300, geometry(300)[0])
    native = Decoder(300, geometry(300)[0])
    for i, m in enumerate(native.net):
        if isinstance(m, FastConvTranspose1d):
            plain = nn.ConvTranspose1d(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0])
            native.net[i] = plain
    native.load_state_dict(dec.state_dict())
    assert set(native.state_dict()) == set(dec.state_dict())
    dec.eval(), native.eval()
    z = torch.randn(9, 128)
    with torch.no_grad():
        _close(dec(z), native(z))


def _sparse_rows(n, d, density, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, d, generator=g) < density).float() * torch.rand(n, d, generator=g).add(0.5)


@pytest.mark.parametrize("density", [0.003, 0.05, 3 * SPARSE_MAX_DENSITY])
def test_sparse_linear_equals_dense(density):
    torch.manual_seed(0)
    a, b = nn.Linear(200, 32), nn.Linear(200, 32)
    b.load_state_dict(a.state_dict())
    x = _sparse_rows(64, 200, density, 2)
    x[5] = 0  # an empty row still gets the bias
    ya, yb = a(x), sparse_linear(x, b)
    _close(yb, ya)
    g = torch.randn_like(ya)
    (ya * g).sum().backward()
    (yb * g).sum().backward()
    _close(b.weight.grad, a.weight.grad, 1e-4)
    _close(b.bias.grad, a.bias.grad, 1e-4)


@pytest.mark.parametrize("mba,projection", [(False, 0), (False, 2), (True, 0)])
def test_critic_forward_pair_equals_one_pass(mba, projection):
    torch.manual_seed(0)
    critic = MLPCritic(120, minibatch_averaging=mba, projection=projection)
    fake = torch.sigmoid(torch.randn(16, 120))
    real = _sparse_rows(16, 120, 0.02, 3)
    if projection:  # the class one-hot sits in the last columns
        real[:, -2:] = torch.nn.functional.one_hot(torch.arange(16) % 2, 2).float()
    ref = critic(torch.cat([fake, real]))
    grads_ref = torch.autograd.grad(ref.sum(), list(critic.parameters()))
    out = critic.forward_pair(fake, real)
    grads = torch.autograd.grad(out.sum(), list(critic.parameters()))
    _close(out, ref)
    for ga, gb in zip(grads, grads_ref):
        _close(ga, gb, 1e-4)


@pytest.mark.parametrize("shape", [(64, 4, 535), (33, 16, 21)])
@pytest.mark.parametrize("grad", [True, False])
def test_fast_batch_norm_equals_native_with_running_statistics(shape, grad):
    torch.manual_seed(0)
    native, fast = nn.BatchNorm1d(shape[1], momentum=0.3), FastBatchNorm1d(shape[1], momentum=0.3)
    with torch.no_grad():
        native.weight.uniform_(0.5, 2), native.bias.normal_()
    fast.load_state_dict(native.state_dict())
    x = torch.randn(*shape).mul(3).add(5)  # a large mean: the two-pass variance keeps its precision
    g = torch.randn(*shape)
    for _ in range(2):  # the running averages accumulate over calls as nn.BatchNorm1d's do
        xa, xb = x.clone().requires_grad_(grad), x.clone().requires_grad_(grad)
        with torch.set_grad_enabled(grad):
            ya, yb = native(xa), fast(xb)
        _close(yb, ya)
        if grad:
            (ya * g).sum().backward()
            (yb * g).sum().backward()
    for name, buf in native.state_dict().items():
        _close(fast.state_dict()[name].float(), buf.float())
    if grad:
        _close(xb.grad, xa.grad, 1e-4)
        _close(fast.weight.grad, native.weight.grad, 1e-4)
        _close(fast.bias.grad, native.bias.grad, 1e-4)
    fast.eval(), native.eval()
    with torch.no_grad():
        _close(fast(x), native(x))


def test_single_output_channel_takes_the_channels_last_path():
    _, fast = _pair(4, 1, 3, 2)
    x = torch.randn(3, 4, 40, requires_grad=True)
    assert "Subpixel" not in type(fast(x).grad_fn).__name__
    _, fast = _pair(4, 2, 3, 2)
    assert "Subpixel" in type(fast(x).grad_fn).__name__


def test_adam_is_fused_on_cpu_and_keeps_every_param_group():
    from corgan_core.models.optimizers import adam

    a, b = nn.Linear(3, 2), nn.Linear(2, 2)
    opt = adam([{"params": a.parameters(), "lr": 0.1}, {"params": b.parameters(), "lr": 0.2}])
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2]
    assert opt.defaults["fused"] is True
    ref = torch.optim.Adam([{"params": [p.detach().clone().requires_grad_() for p in a.parameters()], "lr": 0.1}])
    for p, q in zip(a.parameters(), ref.param_groups[0]["params"]):
        p.grad = q.grad = torch.full_like(p, 0.5)
    opt.step(), ref.step()
    for p, q in zip(a.parameters(), ref.param_groups[0]["params"]):
        _close(p.detach(), q.detach(), 1e-6)


def test_cpu_autocast_takes_pytorchs_own_layers():
    """Under bf16 autocast the rewrites step aside (their backward would mix dtypes)."""
    dec = Decoder(300, geometry(300)[0])
    z = torch.randn(6, 128, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = dec(z)
    out.float().sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all()
    _, fast = _pair(16, 8, 7, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = fast(torch.randn(2, 16, 40, requires_grad=True))
    assert "Subpixel" not in type(y.grad_fn).__name__


def test_parameters_wrapped_by_torch_func_alone_take_the_native_layers():
    """torch.func may wrap only the parameters (a plain input to functional_call under grad)."""
    native, fast = _pair(16, 8, 7, 3)
    x = torch.randn(3, 16, 40)
    params = {k: v.detach() for k, v in native.named_parameters()}
    ga = torch.func.grad(lambda p: torch.func.functional_call(native, p, (x,)).square().sum())(params)
    gb = torch.func.grad(lambda p: torch.func.functional_call(fast, p, (x,)).square().sum())(params)
    for name in params:
        _close(gb[name], ga[name], 1e-4)
    # BatchNorm in training mode: PyTorch's layer refuses (it updates its running statistics in place),
    # and the fast one refuses the same way instead of running its own autograd Function
    xb = torch.randn(5, 4, 9)
    for bn in (nn.BatchNorm1d(4), FastBatchNorm1d(4)):
        pb = {k: v.detach() for k, v in bn.named_parameters()}
        with pytest.raises(RuntimeError, match="in-place operation"):
            torch.func.grad(lambda p: torch.func.functional_call(bn, p, (xb,)).square().sum())(pb)


def test_one_value_per_channel_is_refused_as_pytorch_refuses_it():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        FastBatchNorm1d(3)(torch.randn(1, 3, 1))


def test_adam_takes_a_single_tensor_as_a_groups_params():
    from corgan_core.models.optimizers import adam

    w = torch.zeros(3, 2, requires_grad=True)
    opt = adam([{"params": w, "lr": 0.1}])
    assert opt.param_groups[0]["params"][0] is w
    w.grad = torch.ones_like(w)
    opt.step()
    assert torch.allclose(w.detach(), torch.full_like(w, -0.1))
