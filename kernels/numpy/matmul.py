"""Matrix product through the array library's BLAS: NumPy's (OpenBLAS in NumPy's wheels) or CuPy's cuBLAS.

    matmul(a, b)    a (..., K) @ b (K, N) -> (..., N)
"""
from ..shapes import check_matmul


def matmul(a, b):
    check_matmul("matmul", a, b)
    return a @ b
