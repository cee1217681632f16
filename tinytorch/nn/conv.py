"""Convolutions: F.conv1d/2d, F.conv_transpose1d/2d (argument checks, then the Functions of
fused_conv) and the modules Conv1d/2d, ConvTranspose1d/2d.

Inputs are batched (N, C, *S) or unbatched (C, *S). Weights are (out, in/groups, *K) for a
convolution and (in, out/groups, *K) for a transposed one, initialised as torch does:
kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1]
* prod K, and the bias from the same bound.
"""

from ..creation import empty
from . import init
from .fused_common import require_floating
from .fused_conv import Conv, ConvTranspose, as_tuple, conv_geometry
from .module import Module
from .parameter import Parameter
from .resample import pad

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _batched(op, input, weight, d, transposed, groups):
    """input as (N, C, *S) after the rank and channel checks, and whether it came unbatched."""
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {op}, but got input of "
                           f"size: {list(input.shape)}")
    if weight.ndim != d + 2:
        raise RuntimeError(f"{op}: expected a {d + 2}D weight, but got weight of size {list(weight.shape)}")
    if groups < 1:
        raise RuntimeError("non-positive groups is not supported")
    x = input.unsqueeze(0) if input.ndim == d + 1 else input
    channels = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != channels or weight.shape[0] % groups:
        given = "transposed=1" if transposed else f"groups={groups}"
        raise RuntimeError(f"Given {given}, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {channels} channels, but got {x.shape[1]} channels instead")
    require_floating(op, x._data)
    return x, input.ndim == d + 1


def _check_bias(op, weight, bias, channels, x):
    if weight.dtype != x.dtype or (bias is not None and bias.dtype != x.dtype):
        raise RuntimeError(f"{op}: input type ({x.dtype}), weight type ({weight.dtype}) and bias type "
                           f"({None if bias is None else bias.dtype}) should be the same")
    if bias is not None and tuple(bias.shape) != (channels,):
        raise RuntimeError(f"{op}: expected bias of size [{channels}], but got bias of size {list(bias.shape)}")


def _conv(op, d, input, weight, bias, stride, padding, dilation, groups):
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise RuntimeError(f"Invalid padding string: {padding!r}")
        if padding == "same" and any(s != 1 for s in as_tuple(stride, d)):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
    x, unbatched = _batched(op, input, weight, d, False, groups)
    _check_bias(op, weight, bias, weight.shape[0], x)
    kernel = tuple(weight.shape[2:])
    geometry = conv_geometry(kernel, stride, padding, dilation, groups)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], geometry.padding))
    reach = tuple(dl * (k - 1) + 1 for k, dl in zip(kernel, geometry.dilation))
    if any(p < r for p, r in zip(padded, reach)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, reach))}). Kernel size can't be greater than actual input size")
    y = Conv.apply(x, weight, bias, geometry)
    return y.squeeze(0) if unbatched else y


def _conv_transpose(op, d, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, unbatched = _batched(op, input, weight, d, True, groups)
    _check_bias(op, weight, bias, weight.shape[1] * groups, x)
    geometry = conv_geometry(tuple(weight.shape[2:]), stride, padding, dilation, groups)
    output_padding = as_tuple(output_padding, d)
    if any(op_ >= max(s, dl) for op_, s, dl in zip(output_padding, geometry.stride, geometry.dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got output_padding "
                           f"{list(output_padding)}, stride {list(geometry.stride)}, "
                           f"dilation {list(geometry.dilation)}")
    y = ConvTranspose.apply(x, weight, bias, geometry, output_padding)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of input (N, C, L) with weight (O, C/groups, K) -> (N, O, L_out)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of input (N, C, H, W) with weight (O, C/groups, kH, kW) -> (N, O, H_out, W_out)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of conv1d: input (N, C, L), weight (C, O/groups, K) -> (N, O, L_out)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of conv2d: input (N, C, H, W), weight (C, O/groups, kH, kW) -> (N, O, H_out, W_out)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


# ---- modules ----------------------------------------------------------------------------------

class _ConvNd(Module):
    """What the convolution modules share: checked arguments, parameters, initialisation, repr."""

    _d = None

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        d = self._d
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in as_tuple(stride, d)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {{{', '.join(repr(m) for m in sorted(PADDING_MODES))}}}, "
                             f"but got padding_mode={padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = as_tuple(kernel_size, d), as_tuple(stride, d)
        self.padding = padding if isinstance(padding, str) else as_tuple(padding, d)
        self.dilation, self.transposed = as_tuple(dilation, d), transposed
        self.output_padding, self.groups, self.padding_mode = as_tuple(output_padding, d), groups, padding_mode
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(empty(*shape, *self.kernel_size, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init._default_init_(self.weight, self.bias)

    def extra_repr(self):
        d = self._d
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * d:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * d:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * d:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    _op = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        if self.padding_mode == "zeros":
            return self._op(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        pairs = conv_geometry(self.kernel_size, 1, self.padding, self.dilation, 1).padding
        padded = pad(input, [p for pair in reversed(pairs) for p in pair], mode=self.padding_mode)
        return self._op(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class Conv1d(_Conv):
    _d, _op = 1, staticmethod(conv1d)


class Conv2d(_Conv):
    _d, _op = 2, staticmethod(conv2d)


class _ConvTranspose(_ConvNd):
    _op = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        output_padding = self.output_padding if output_size is None else self._output_padding(input, output_size)
        return self._op(input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                        self.dilation)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output `output_size` (its last d entries are the sides),
        from smallest + 0 to smallest + stride - 1."""
        d = self._d
        wanted = tuple(output_size)[-d:]
        smallest = tuple((n - 1) * s - 2 * p + dl * (k - 1) + 1 for n, s, p, dl, k in
                         zip(input.shape[-d:], self.stride, self.padding, self.dilation, self.kernel_size))
        largest = [m + s - 1 for m, s in zip(smallest, self.stride)]
        if any(not m <= w <= big for w, m, big in zip(wanted, smallest, largest)):
            raise ValueError(f"requested an output size of {list(wanted)}, but valid sizes range from "
                             f"{list(smallest)} to {largest} (for an input of {list(input.shape[-d:])})")
        return tuple(w - m for w, m in zip(wanted, smallest))


class ConvTranspose1d(_ConvTranspose):
    _d, _op = 1, staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    _d, _op = 2, staticmethod(conv_transpose2d)
