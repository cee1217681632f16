"""A BLAS gemm called from inside a Numba function, for kernels that run a loop of small products
(the LSTM's time loop, lstm.py): each step's product then costs the library's time only, not the
microseconds of a Python call, a ctypes call and an array allocation.

    sgemm(address, m, n, k, a, lda, b, ldb, beta, c, ldc)
        C <- A B + beta C in float32, row-major, neither operand transposed: A (m, k) at address a
        with row stride lda, B (k, n) at b (ldb), C (m, n) at c (ldc), all strides in elements;
        `address` is the library's cblas_sgemm (mkl_matmul.sgemm_address()).

The function is called through its address, a run-time argument, so the kernels that use it stay
in Numba's on-disk cache (a ctypes function object would be baked into the compiled code).
"""
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_ROW_MAJOR, _NO_TRANSPOSE = 101, 111


@intrinsic
def sgemm(typingctx, address, m, n, k, a, lda, b, ldb, beta, c, ldc):
    def codegen(context, builder, signature, args):
        i32, f32, pointer = ir.IntType(32), ir.FloatType(), ir.IntType(8).as_pointer()
        function = ir.FunctionType(ir.VoidType(), [i32] * 6 + [f32, pointer, i32, pointer, i32, f32, pointer, i32])
        address, m, n, k, a, lda, b, ldb, beta, c, ldc = args
        as_int = lambda v: builder.trunc(v, i32)  # noqa: E731
        as_pointer = lambda v: builder.inttoptr(v, pointer)  # noqa: E731
        builder.call(builder.inttoptr(address, function.as_pointer()),
                     [ir.Constant(i32, _ROW_MAJOR), ir.Constant(i32, _NO_TRANSPOSE), ir.Constant(i32, _NO_TRANSPOSE),
                      as_int(m), as_int(n), as_int(k), ir.Constant(f32, 1.0), as_pointer(a), as_int(lda),
                      as_pointer(b), as_int(ldb), beta, as_pointer(c), as_int(ldc)])
        return context.get_dummy_value()

    signature = types.void(types.intp, types.intp, types.intp, types.intp, types.uintp, types.intp, types.uintp,
                           types.intp, types.float32, types.uintp, types.intp)
    return signature, codegen
