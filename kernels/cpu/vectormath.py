"""Scalar math that LLVM can vectorize inside Numba loops: `maximum`, `exp`, `fma` and float32 bit casts.

pip's llvmlite has no SVML, so `np.exp` in a Numba loop is a scalar libm call and the loop
stays scalar; `max(a, b)` lowers to a compare-and-select that LLVM will not vectorize as a
reduction. These replacements compile to straight-line float32 arithmetic.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload


@intrinsic
def maximum(typingctx, a, b):
    """The larger of two floats of one type, as llvm.maxnum with no-NaN and no-signed-zero flags.

    Unlike max(a, b), LLVM vectorizes `m = maximum(m, x[j])` as a reduction, and the flags let
    it use plain vmaxps (a NaN-aware reduction is 2x slower on short rows). Its result is
    unspecified when an operand is NaN: callers must let a NaN reach their output another
    way (softmax sums exp(x - m), which is NaN whatever m is).
    """
    if not (isinstance(a, types.Float) and a == b):
        return None

    def codegen(context, builder, signature, args):
        t = args[0].type
        fn = builder.module.declare_intrinsic("llvm.maxnum", [t], ir.FunctionType(t, [t, t]))
        return builder.call(fn, args, fastmath=("nnan", "nsz"))

    return a(a, b), codegen


@intrinsic
def _shift_into_exponent(typingctx, v):
    """The float32 whose bit pattern is v's bits shifted left by 23 (mantissa -> exponent field)."""
    if v != types.float32:
        return None

    def codegen(context, builder, signature, args):
        bits = builder.bitcast(args[0], ir.IntType(32))
        shifted = builder.shl(bits, ir.Constant(ir.IntType(32), 23))
        return builder.bitcast(shifted, ir.FloatType())

    return types.float32(types.float32), codegen


_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)  # ln 2 = _LN2_HI + _LN2_LO; _LN2_HI has 9 significant bits
_LN2_LO = np.float32(-2.12194440e-4)
_ROUNDER = np.float32(1.5 * 2**23 + 126)  # adding it rounds to an integer k, stored as k + 126
_UNDERFLOW = np.float32(-86.6)  # below this exp(x) < 2.3e-38: returned as 0
_OVERFLOW = np.float32(88.72284)  # above this exp(x) > float32 max: returned as inf
_TAYLOR = tuple(np.float32(1 / f) for f in (5040, 720, 120, 24, 6, 2, 1, 1))  # 1/7! ... 1/0!


def exp(x):
    """exp(x) in the dtype of x; float32 takes the vectorizable polynomial below."""
    return np.exp(x)


@njit(fastmath={"contract"}, cache=True)
def _exp_float32(x):
    """exp(x) = 2**k * exp(r), k = round(x / ln 2), |r| <= ln(2)/2, exp(r) by its Taylor series.

    Degree 7 leaves a truncation error below 5e-9, so the result is within about 1 ulp of
    float32 exp. Adding _ROUNDER to x/ln2 rounds it to k and leaves k + 126 in the low mantissa
    bits, which a shift moves into the exponent field to make 2**(k - 1). Only FMA contraction
    is allowed here: reassociation would cancel the (v + _ROUNDER) - _ROUNDER rounding trick.
    """
    v = x * _LOG2E + _ROUNDER
    k = v - _ROUNDER
    r = x - k * _LN2_HI - k * _LN2_LO
    p = _TAYLOR[0]
    for c in _TAYLOR[1:]:
        p = p * r + c
    y = (p + p) * _shift_into_exponent(v)
    y = np.float32(0) if x < _UNDERFLOW else y
    return np.float32(np.inf) if x > _OVERFLOW else y


@overload(exp)
def _exp_overload(x):
    if x == types.float32:
        return lambda x: _exp_float32(x)
    if isinstance(x, types.Float):
        return lambda x: np.exp(x)
    return None


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c rounded once (llvm.fma), for three floats of one type: the FMA instruction, which
    LLVM vectorizes, in code compiled without fast-math (where nothing else is fused)."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        t = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fma", [t], ir.FunctionType(t, [t, t, t]))
        return builder.call(fn, args)

    return a(a, b, c), codegen


@intrinsic
def float32_bits(typingctx, x):
    """The bits of a float32 as an int32 (x.view(np.int32) for one element)."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@intrinsic
def float32_from_bits(typingctx, bits):
    """The float32 with the bits of an int32 (bits.view(np.float32) for one element)."""
    if bits != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen
