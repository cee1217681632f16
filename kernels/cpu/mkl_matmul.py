"""2-D matrix products on the CPU by Intel MKL's gemm, called directly through ctypes.

MKL is the BLAS inside PyTorch's CPU wheels; NumPy's wheels bring OpenBLAS. Which one is faster
depends on the CPU (MKL tends to win on Intel cores and lose on AMD ones), so tinytorch.backends
measures both once per machine before it sends the linear layers' products here (its
`cpu_matmul = "auto"`). MKL comes from the optional `mkl` extra (`pip install -e '.[mkl]'`, x86-64).

    matmul(a, b)        a (M, K) @ b (K, N) -> (M, N), C-contiguous
    available()         whether MKL's library loads
    sgemm_address()     where cblas_sgemm lies, for a Numba kernel's own loop of products (blas_call.py)

MKL runs its threads on GNU OpenMP (libgomp, its "GNU threading layer"), the runtime under
Numba's parallel kernels: both then take turns on one pool of threads, as torch's MKL and its
own kernels do, instead of two pools that spin on each other's cores (threads.py).

Products under SMALL multiply-adds, other dtypes and other layouts take NumPy's matmul, which gives
the same numbers up to float rounding. Operands go to gemm as they lie: a C-contiguous block is "no
transpose", a Fortran-ordered one (the transpose of a C-contiguous block, like W.T) is "transpose",
with its row stride as the leading dimension.
"""
import ctypes
import ctypes.util
import functools
import os
import sys

import numpy as np

from ..shapes import check_matmul

_ROW_MAJOR, _NO_TRANSPOSE, _TRANSPOSE = 101, 111, 112
# below this many multiply-adds NumPy's product is faster: a call into MKL costs about 8 us more
# ((32, 64) x (64, 32): 9.8 us against 1.9; (96, 96) x (96, 96): 24.7 against 12.9; level from about 2M)
SMALL = 1 << 20
_THREADING_GNU = 3  # MKL_THREADING_GNU of mkl_service.h (INTEL 0, SEQUENTIAL 1, PGI 2, GNU 3, TBB 4)
_MKL_FILES = ("libmkl_rt.so.3", "libmkl_rt.so.2", "libmkl_rt.so")


def matmul(a, b):
    """a @ b for a (M, K) and b (K, N), by MKL's gemm when they suit it and the product has SMALL
    multiply-adds or more."""
    check_matmul("matmul", a, b)
    gemm = _gemm_for(a.dtype, b.dtype)
    m, k = a.shape
    n = b.shape[1]
    if gemm is None or 0 in (m, k, n) or m * k * n < SMALL:
        return a @ b
    a_op, b_op = _operand(a), _operand(b)
    if a_op is None or b_op is None:
        return a @ b
    c = np.empty((m, n), a.dtype)
    gemm(_ROW_MAJOR, a_op[0], b_op[0], m, n, k, 1.0, a.ctypes.data, a_op[1], b.ctypes.data, b_op[1],
         0.0, c.ctypes.data, n)
    return c


def _operand(a):
    """(transpose flag, leading dimension) of a 2-D array as a row-major gemm operand, or None."""
    if a.ndim != 2:
        return None
    item = a.itemsize
    rows, cols = a.strides
    if cols == item and rows % item == 0 and rows // item >= max(a.shape[1], 1):
        return _NO_TRANSPOSE, max(rows // item, 1)
    if rows == item and cols % item == 0 and cols // item >= max(a.shape[0], 1):
        return _TRANSPOSE, max(cols // item, 1)
    if a.flags.c_contiguous:   # a dim of length 1 leaves its stride arbitrary
        return _NO_TRANSPOSE, max(a.shape[1], 1)
    return None


def _gemm_for(a_dtype, b_dtype):
    if a_dtype != b_dtype or a_dtype not in (np.float32, np.float64):
        return None
    return _gemms()[a_dtype == np.float64]


@functools.cache
def _gemms():
    """(cblas_sgemm, cblas_dgemm) from MKL's single dynamic library, loaded once."""
    path = _find_mkl()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise RuntimeError(f"tinytorch.backends cpu_matmul='mkl': cannot load MKL from {path}: {e}") from e
    if "MKL_THREADING_LAYER" not in os.environ:  # before any other MKL call, or MKL keeps its default
        lib.MKL_Set_Threading_Layer.argtypes, lib.MKL_Set_Threading_Layer.restype = [ctypes.c_int], ctypes.c_int
        lib.MKL_Set_Threading_Layer(_THREADING_GNU)
    gemms = []
    for name, real in (("cblas_sgemm", ctypes.c_float), ("cblas_dgemm", ctypes.c_double)):
        f = getattr(lib, name)
        i, p = ctypes.c_int, ctypes.c_void_p
        f.argtypes = [i, i, i, i, i, i, real, p, i, p, i, real, p, i]
        f.restype = None
        gemms.append(f)
    return tuple(gemms)


def sgemm_address():
    """The address of MKL's cblas_sgemm (loading MKL)."""
    return ctypes.cast(_gemms()[0], ctypes.c_void_p).value


def _find_mkl():
    """The path of libmkl_rt: where the `mkl` wheel puts it (<prefix>/lib), else the loader's search."""
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        for name in _MKL_FILES:
            path = os.path.join(prefix, "lib", name)
            if os.path.exists(path):
                return path
    found = ctypes.util.find_library("mkl_rt")
    if found is None:
        raise RuntimeError("tinytorch.backends cpu_matmul='mkl' needs Intel MKL, which is not installed: "
                           "pip install 'tinytorch[mkl]' (x86-64), or use cpu_matmul='numpy'")
    return found


def installed():
    """Whether MKL's library is on disk (without loading it)."""
    try:
        _find_mkl()
    except RuntimeError:
        return False
    return True


def available():
    """Whether MKL's library can be loaded (the `mkl` extra is installed)."""
    try:
        _gemms()
    except (RuntimeError, OSError):
        return False
    return True
