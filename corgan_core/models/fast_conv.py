"""A faster CPU forward for the decoder's transposed convolutions, the same function and parameters.

PyTorch's CPU ``conv_transpose1d`` runs the decoder's thin layers (4-64 channels, strides 2-4) at
a few GMAC/s; it was most of a critic step and of sampling (BENCHMARKS.md, Speed). Two exact
rewrites are used instead, chosen by the input's length:

* length 1 (the first layer): a transposed convolution of one position is a matrix product,
  ``x @ W.reshape(cin, cout * k)``;
* length >= ``SUBPIXEL_MIN_LENGTH``: the sub-pixel (polyphase) form. Output phase ``j`` of stride
  ``s`` is an ordinary convolution of the input with the taps ``j, j + s, ...`` (flipped), so all
  phases are one ``conv1d`` with ``cout * s`` output channels whose result is interleaved.

The backward of the sub-pixel form is PyTorch's own ``convolution_backward`` for the transposed
convolution (faster than differentiating the interleave), except for a single output channel (the
last layer), which runs channels-last and is differentiated as it stands. Shorter inputs (the second layer, where
the rewrite measured slower), CUDA tensors (cuDNN is not the bottleneck there), CPU autocast and
``torch.func`` transforms (DP-SGD's per-record gradients) use ``conv_transpose1d`` itself. The
sub-pixel backward is once-differentiable: a double backward through it (a gradient penalty on a
network that contains the decoder; none does: the penalties go through the critics) raises
PyTorch's own error rather than giving a wrong second derivative.
Checkpoints are unchanged: the module is an ``nn.ConvTranspose1d`` with the same state.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

CHANNELS_LAST_MAX_OUT = 1  # layers with this many output channels or fewer run channels-last
SUBPIXEL_MIN_LENGTH = 16  # measured at batch 512: slower than the native kernel at length 5, faster from 21


def subpixel_conv_transpose1d(x, weight, bias, stride: int, channels_last: bool = False):
    """``F.conv_transpose1d(x, weight, bias, stride)`` (no padding, dilation or groups) as one conv1d.

    ``channels_last`` runs the convolution in oneDNN's channels-last layout with its output channels
    ordered (phase, channel): the result then already is the interleaved output, laid out
    length-major (strides (L * C, 1, C)); for one output channel that is the plain layout, and the
    decoder's last layer (4 channels in, 1 out) runs ~2x faster forward and backward this way."""
    cin, cout, k = weight.shape
    taps = math.ceil(k / stride)
    w = F.pad(weight, (0, taps * stride - k)).view(cin, cout, taps, stride)
    n, _, length = x.shape
    phases = length + taps - 1
    # the bias goes in the convolution (each phase of channel co gets bias[co]): one pass fewer
    if channels_last:  # w[ci, co, j + m*s] -> kernel of output channel (j, co), tap m, flipped
        w = w.permute(3, 1, 0, 2).flip(-1).reshape(stride * cout, cin, 1, taps)
        x4 = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        y = F.conv2d(x4, w, None if bias is None else bias.repeat(stride), padding=(0, taps - 1))
        y = y.permute(0, 2, 3, 1).reshape(n, phases * stride, cout).transpose(1, 2)
    else:  # output channel (co, j), then interleaved
        w = w.permute(1, 3, 0, 2).flip(-1).reshape(cout * stride, cin, taps)
        y = F.conv1d(x, w, None if bias is None else bias.repeat_interleave(stride), padding=taps - 1)
        y = y.view(n, cout, stride, phases).transpose(2, 3).reshape(n, cout, phases * stride)
    return y[..., : (length - 1) * stride + k]


class _SubpixelConvTranspose(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride):
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.has_bias = stride, bias is not None
        return subpixel_conv_transpose1d(x, weight, bias, stride)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.has_bias and ctx.needs_input_grad[2]]
        gx, gw, gb = torch.ops.aten.convolution_backward(
            grad.contiguous(), x, weight, [weight.shape[1]] if ctx.has_bias else None,
            [ctx.stride], [0], [1], True, [0], 1, mask)
        return gx, gw, gb if ctx.has_bias else None, None


def torch_layer_needed(x, weight) -> bool:
    """Whether a fast layer must leave ``x`` to PyTorch's own layer: off the CPU, under CPU autocast
    (the saved input and the incoming gradient could differ in dtype in a custom backward) and under
    ``torch.func``, which may wrap the input or the parameters alone (``functional_call`` under
    ``grad`` with a plain input). Shared by :mod:`.fast_conv` and :mod:`.fast_norm`."""
    wrapped = torch._C._functorch.is_functorch_wrapped_tensor
    return (x.device.type != "cpu" or torch.is_autocast_enabled("cpu") or wrapped(x)
            or (weight is not None and wrapped(weight)))


class FastConvTranspose1d(nn.ConvTranspose1d):
    """``nn.ConvTranspose1d`` (no padding, dilation, groups or output padding) with the faster CPU
    forward described in the module docstring; outputs agree to float rounding."""

    def forward(self, x, output_size=None):
        plain = (self.padding == (0,) and self.dilation == (1,) and self.groups == 1
                 and self.output_padding == (0,) and output_size is None and x.dim() == 3)
        if not plain or torch_layer_needed(x, self.weight):
            return super().forward(x, output_size)
        length = x.shape[-1]
        if length == 1:
            cin, cout, k = self.weight.shape
            y = (x.squeeze(-1) @ self.weight.reshape(cin, cout * k)).view(-1, cout, k)
            return y if self.bias is None else y + self.bias.view(1, -1, 1)
        if length >= SUBPIXEL_MIN_LENGTH and self.out_channels <= CHANNELS_LAST_MAX_OUT:  # autograd through conv2d: fastest here
            return subpixel_conv_transpose1d(x, self.weight, self.bias, self.stride[0], channels_last=True)
        if length >= SUBPIXEL_MIN_LENGTH:
            return _SubpixelConvTranspose.apply(x, self.weight, self.bias, self.stride[0])
        return super().forward(x, output_size)
