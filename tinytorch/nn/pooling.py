"""Poolings: F.max_pool1d/2d, F.avg_pool1d/2d, F.adaptive_avg_pool1d/2d (argument checks, then the
Functions of fused_pool) and their modules. Inputs are batched (N, C, *S) or unbatched (C, *S)."""
from .fused_common import require_floating
from .fused_pool import (AdaptiveAvgPool, AvgPool, MaxPool, adaptive_matrices, adaptive_out, avg_divisor,
                         pool_geometry)
from .module import Module


def _batched(op, input, d):
    if input.ndim not in (d + 1, d + 2) or input.numel() == 0:
        raise RuntimeError(f"{op}: non-empty {d + 1}D or {d + 2}D (batch mode) tensor expected for input, got "
                           f"input of size {list(input.shape)}")
    return (input.unsqueeze(0), True) if input.ndim == d + 1 else (input, False)


def _geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """The PoolGeometry, checked as torch checks it: padding at most half the kernel (max_pool2d:
    half the dilated kernel), every output side at least 1."""
    geometry = pool_geometry(tuple(x.shape[2:]), kernel_size, stride, padding, dilation, ceil_mode)
    for k, (p, _), dl, s in zip(geometry.kernel, geometry.padding, geometry.dilation, geometry.stride):
        if k <= 0 or s <= 0 or dl <= 0:
            raise RuntimeError(f"{op}: kernel_size, stride and dilation must be positive, got kernel_size="
                               f"{kernel_size}, stride={stride}, dilation={dilation}")
        dilated = op == "max_pool2d"
        if p < 0 or p > ((dl * (k - 1) + 1) // 2 if dilated else k // 2):
            what = "effective kernel size" if dilated else "kernel size"
            raise RuntimeError(f"pad should be at most half of {what}, but got pad={p}, kernel_size={k}"
                               + (f" and dilation={dl}" if dilated else ""))
    if any(m < 1 for m in geometry.out):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
                           f"({'x'.join(map(str, (x.shape[1],) + geometry.out))}). Output size is too small")
    return geometry


def _max_pool(op, d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unbatched = _batched(op, input, d)
    require_floating(op, x._data)
    out = MaxPool.apply(x, _geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode), return_indices)
    if unbatched:
        out = tuple(t.squeeze(0) for t in out) if return_indices else out.squeeze(0)
    return out


def _avg_pool(op, d, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override=None):
    x, unbatched = _batched(op, input, d)
    require_floating(op, x._data)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    geometry = _geometry(op, x, kernel_size, stride, padding, 1, ceil_mode)
    y = AvgPool.apply(x, geometry, avg_divisor(tuple(x.shape[2:]), geometry, count_include_pad, divisor_override))
    return y.squeeze(0) if unbatched else y


def _adaptive_avg_pool(op, d, input, output_size):
    x, unbatched = _batched(op, input, d)
    require_floating(op, x._data)
    out = adaptive_out(x.shape[2:], output_size)
    if len(out) != d or any(m < 0 for m in out):
        raise RuntimeError(f"{op}: output_size must be {d} non-negative sizes, got {output_size}")
    y = AdaptiveAvgPool.apply(x, adaptive_matrices(tuple(x.shape[2:]), out, x._data.dtype))
    return y.squeeze(0) if unbatched else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


# ---- modules ----------------------------------------------------------------------------------

class _MaxPoolNd(Module):
    _op = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return self._op(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                        return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    _op = staticmethod(max_pool1d)


class MaxPool2d(_MaxPoolNd):
    _op = staticmethod(max_pool2d)


class AvgPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size, self.stride = (kernel_size,), (stride if stride is not None else kernel_size,)
        self.padding, self.ceil_mode, self.count_include_pad = (padding,), ceil_mode, count_include_pad

    def forward(self, input):
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveAvgPoolNd(Module):
    _op = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return self._op(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    _op = staticmethod(adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    _op = staticmethod(adaptive_avg_pool2d)
