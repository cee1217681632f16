"""Explicit float32 vectors of W = 16 lanes for Numba kernels: a value type and the operations on it
that the whole-head attention kernels (attention.py) need: small matrix products and a softmax.

LLVM vectorizes a Numba loop over an array, but it keeps a running sum in a register only when the
sum is a scalar reduction; a product that accumulates a row of outputs (acc[0:16] += a * b[0:16]
over a loop of depth D) goes through memory on every step, since LLVM cannot prove the
accumulator's array and the operands' arrays apart. A Vec16 is an LLVM <16 x float> value: a local
variable of that type lives in a register (one AVX-512 register, two AVX2 ones) across the loop.

    load(a, i, j)      a[i, j:j+16] of a C-contiguous 2-d float32 array (no bounds check: j + 16 <= columns)
    store(a, i, j, x)  a[i, j:j+16] = x
    splat(s)           16 copies of a float32
    zeros()            16 zeros
    fma(x, y, z)       x * y + z, lane by lane, rounded once
    add(x, y), sub(x, y), mul(x, y), maximum(x, y)   lane by lane (maximum as vectormath.maximum)
    lane_sum(x)        the sum of the lanes (any order)
    lane_max(x)        the largest lane (NaN lanes may be ignored, as vectormath.maximum)
    first_lanes(x, n, fill)   x with the lanes from n on replaced by fill
    exp(x)             vectormath's float32 exp, lane by lane

load and store index the 2-d array itself: a row taken as a view, a[i], would cost Numba a
reference count increment and decrement each time, more than the vector operation. The lane-by-lane
operations carry no fast-math flags: exp's rounding trick depends on that.
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba import njit
from numba.extending import intrinsic, models, register_model

from . import vectormath

W = 16


class Vec16(types.Type):
    """Numba's type of a <16 x float> value."""

    def __init__(self):
        super().__init__(name="Vec16")


vec16 = Vec16()
_VECTOR = ir.VectorType(ir.FloatType(), W)


@register_model(Vec16)
class _Vec16Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VECTOR)


def _is_float32_matrix(a, i, j):
    return (isinstance(a, types.Array) and a.ndim == 2 and a.dtype == types.float32 and a.layout == "C"
            and isinstance(i, types.Integer) and isinstance(j, types.Integer))


def _pointer_to(context, builder, signature, args):
    """A <16 x float>* to a[i, j] (signature and args start with a, i, j)."""
    ary = context.make_array(signature.args[0])(context, builder, args[0])
    i, j = (context.cast(builder, x, t, types.intp) for x, t in zip(args[1:3], signature.args[1:3]))
    columns = builder.extract_value(ary.shape, 1)
    element = builder.gep(ary.data, [builder.add(builder.mul(i, columns), j)])
    return builder.bitcast(element, _VECTOR.as_pointer())


@intrinsic
def load(typingctx, a, i, j):
    if not _is_float32_matrix(a, i, j):
        return None

    def codegen(context, builder, signature, args):
        return builder.load(_pointer_to(context, builder, signature, args), align=4)

    return vec16(a, i, j), codegen


@intrinsic
def store(typingctx, a, i, j, x):
    if not (_is_float32_matrix(a, i, j) and x == vec16):
        return None

    def codegen(context, builder, signature, args):
        builder.store(args[3], _pointer_to(context, builder, signature, args), align=4)
        return context.get_dummy_value()

    return types.none(a, i, j, x), codegen


@intrinsic
def splat(typingctx, s):
    if s != types.float32:
        return None

    def codegen(context, builder, signature, args):
        one = builder.insert_element(ir.Constant(_VECTOR, ir.Undefined), args[0], ir.Constant(ir.IntType(32), 0))
        return builder.shuffle_vector(one, one, ir.Constant(ir.VectorType(ir.IntType(32), W), [0] * W))

    return vec16(s), codegen


@intrinsic
def zeros(typingctx):
    def codegen(context, builder, signature, args):
        return ir.Constant(_VECTOR, [0.0] * W)

    return vec16(), codegen


@intrinsic
def fma(typingctx, x, y, z):
    if not x == y == z == vec16:
        return None

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VECTOR, [_VECTOR] * 3), "llvm.fma.v16f32")
        return builder.call(fn, args)

    return vec16(x, y, z), codegen


def _lanewise(op):
    """An intrinsic applying builder.<op> (fadd, fmul) to two Vec16."""
    @intrinsic
    def operation(typingctx, x, y):
        if not x == y == vec16:
            return None

        def codegen(context, builder, signature, args):
            return getattr(builder, op)(*args)

        return vec16(x, y), codegen
    return operation


add = _lanewise("fadd")
sub = _lanewise("fsub")
mul = _lanewise("fmul")


@intrinsic
def maximum(typingctx, x, y):
    if not x == y == vec16:
        return None

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VECTOR, [_VECTOR] * 2),
                                            "llvm.maxnum.v16f32")
        return builder.call(fn, args, fastmath=("nnan", "nsz"))

    return vec16(x, y), codegen


@intrinsic
def lane_max(typingctx, x):
    if x != vec16:
        return None

    def codegen(context, builder, signature, args):
        f32 = ir.FloatType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(f32, [_VECTOR]),
                                            "llvm.vector.reduce.fmax.v16f32")
        return builder.call(fn, args, fastmath=("nnan", "nsz"))

    return types.float32(x), codegen


@intrinsic
def first_lanes(typingctx, x, n, fill):
    if not (x == vec16 and isinstance(n, types.Integer) and fill == types.float32):
        return None

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        count = builder.trunc(context.cast(builder, args[1], signature.args[1], types.int64), i32)
        count = builder.select(builder.icmp_signed(">", count, ir.Constant(i32, W)), ir.Constant(i32, W), count)
        lanes = ir.Constant(ir.VectorType(i32, W), list(range(W)))
        counts = builder.insert_element(ir.Constant(ir.VectorType(i32, W), ir.Undefined), count, ir.Constant(i32, 0))
        counts = builder.shuffle_vector(counts, counts, ir.Constant(ir.VectorType(i32, W), [0] * W))
        fills = builder.insert_element(ir.Constant(_VECTOR, ir.Undefined), args[2], ir.Constant(i32, 0))
        fills = builder.shuffle_vector(fills, fills, ir.Constant(ir.VectorType(i32, W), [0] * W))
        return builder.select(builder.icmp_signed("<", lanes, counts), args[0], fills)

    return vec16(x, n, fill), codegen


@intrinsic
def _shift_into_exponent(typingctx, v):
    """Lane by lane, the float32 whose bits are v's shifted left by 23 (vectormath's, for vectors)."""
    if v != vec16:
        return None

    def codegen(context, builder, signature, args):
        ints = ir.VectorType(ir.IntType(32), W)
        shifted = builder.shl(builder.bitcast(args[0], ints), ir.Constant(ints, [23] * W))
        return builder.bitcast(shifted, _VECTOR)

    return vec16(v), codegen


@intrinsic
def _below(typingctx, x, limit, then, otherwise):
    """then where x < limit (ordered), else otherwise, lane by lane."""
    if not x == limit == then == otherwise == vec16:
        return None

    def codegen(context, builder, signature, args):
        return builder.select(builder.fcmp_ordered("<", args[0], args[1]), args[2], args[3])

    return vec16(x, limit, then, otherwise), codegen


@njit(cache=True)
def exp(x):
    """vectormath._exp_float32 lane by lane: exp(x) = 2**k exp(r), k = round(x / ln 2), exp(r) by its
    Taylor series of degree 7; 0 below vectormath._UNDERFLOW, inf above _OVERFLOW."""
    rounder = splat(vectormath._ROUNDER)
    v = fma(x, splat(vectormath._LOG2E), rounder)
    k = sub(v, rounder)
    r = fma(k, splat(-vectormath._LN2_HI), x)
    r = fma(k, splat(-vectormath._LN2_LO), r)
    p = splat(vectormath._TAYLOR[0])
    for c in vectormath._TAYLOR[1:]:
        p = fma(p, r, splat(c))
    y = mul(add(p, p), _shift_into_exponent(v))
    y = _below(x, splat(vectormath._UNDERFLOW), zeros(), y)
    return _below(splat(vectormath._OVERFLOW), x, splat(np.float32(np.inf)), y)


@intrinsic
def lane_sum(typingctx, x):
    if x != vec16:
        return None

    def codegen(context, builder, signature, args):
        f32 = ir.FloatType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(f32, [f32, _VECTOR]),
                                            "llvm.vector.reduce.fadd.v16f32")
        return builder.call(fn, [ir.Constant(f32, 0.0), args[0]], fastmath=("reassoc",))

    return types.float32(x), codegen
