"""Matrix product through the array library's BLAS: NumPy's (OpenBLAS in NumPy's wheels) or CuPy's cuBLAS.

    matmul(a, b)    a (..., K) @ b (K, N) -> (..., N)
"""
from ..shapes import check_matmul


def matmul(a, b):
    check_matmul("matmul", a, b)
    out = a @ b
    return out if out.dtype == a.dtype else out.astype(a.dtype)  # bfloat16's product comes back in float32
