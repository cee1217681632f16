"""Matrix multiply c = a @ b on the CPU with Numba, a (..., K) and b (K, N) -> c (..., N).

Versions (each validated against kernels.reference before it is timed):
  v1  naive: c[i, j] = sum_k a[i, k] * b[k, j], one dot product per output; serial
  v2  rows in parallel; loop order i-k-j, so the inner loop c[i, :] += a[i, k] * b[k, :]
      runs along contiguous rows and vectorizes
  v3  cache-blocked and register-tiled. b is packed as bt = b.T (contiguous), so every
      output is a dot product of two contiguous rows. A micro-kernel computes a 4x4 tile of
      c from 4 rows of a and 4 rows of bt: 16 running sums that LLVM keeps in vector
      registers, 8 loads per 16 FMAs. Blocks of MC rows x KC depth x NC columns keep the
      panels in L1/L2; row blocks are split across threads.
`matmul` is v3.
"""
import numpy as np
from numba import njit, prange

from ..shapes import check_matmul
from .rows import as_rows
from .target import FASTMATH
from .threads import use_threads_for

TILE = 4  # the micro-kernel's tile of c is TILE x TILE (its 16 sums are written out below)
MC, KC, NC = 64, 1024, 256  # rows of a, depth, columns of c per cache block


@njit(cache=True)
def _matmul_v1(a, b, c):
    M, K = a.shape
    N = b.shape[1]
    for i in range(M):
        for j in range(N):
            s = a.dtype.type(0)
            for k in range(K):
                s += a[i, k] * b[k, j]
            c[i, j] = s


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _matmul_v2(a, b, c):
    M, K = a.shape
    for i in prange(M):
        c_row = c[i]
        c_row[:] = 0
        for k in range(K):
            a_ik = a[i, k]
            b_row = b[k]
            for j in range(c_row.shape[0]):
                c_row[j] += a_ik * b_row[j]


@njit(fastmath=FASTMATH, cache=True)
def _tile_4x4(a, bt, c, i, j, k0, k1):
    """c[i:i+4, j:j+4] += a[i:i+4, k0:k1] @ bt[j:j+4, k0:k1].T, sums held in registers."""
    a0, a1, a2, a3 = a[i, k0:k1], a[i + 1, k0:k1], a[i + 2, k0:k1], a[i + 3, k0:k1]
    b0, b1, b2, b3 = bt[j, k0:k1], bt[j + 1, k0:k1], bt[j + 2, k0:k1], bt[j + 3, k0:k1]
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = a.dtype.type(0)
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = a.dtype.type(0)
    for k in range(k1 - k0):
        x0, x1, x2, x3 = a0[k], a1[k], a2[k], a3[k]
        y0, y1, y2, y3 = b0[k], b1[k], b2[k], b3[k]
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3  # noqa: E702
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3  # noqa: E702
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3  # noqa: E702
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3  # noqa: E702
    c[i, j] += s00; c[i, j + 1] += s01; c[i, j + 2] += s02; c[i, j + 3] += s03  # noqa: E702
    c[i + 1, j] += s10; c[i + 1, j + 1] += s11; c[i + 1, j + 2] += s12; c[i + 1, j + 3] += s13  # noqa: E702
    c[i + 2, j] += s20; c[i + 2, j + 1] += s21; c[i + 2, j + 2] += s22; c[i + 2, j + 3] += s23  # noqa: E702
    c[i + 3, j] += s30; c[i + 3, j + 1] += s31; c[i + 3, j + 2] += s32; c[i + 3, j + 3] += s33  # noqa: E702


@njit(fastmath=FASTMATH, cache=True)
def _tile_edge(a, bt, c, i, i_stop, j, j_stop, k0, k1):
    """The partial tiles on the borders: one dot product per output."""
    for ii in range(i, i_stop):
        for jj in range(j, j_stop):
            a_row, b_row = a[ii, k0:k1], bt[jj, k0:k1]
            s = a.dtype.type(0)
            for k in range(k1 - k0):
                s += a_row[k] * b_row[k]
            c[ii, jj] += s


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _matmul_v3(a, bt, c):
    M, K = a.shape
    N = bt.shape[0]
    c[:] = 0
    for block in prange((M + MC - 1) // MC):
        i0, i1 = block * MC, min(block * MC + MC, M)
        for k0 in range(0, K, KC):
            k1 = min(k0 + KC, K)
            for j0 in range(0, N, NC):
                j1 = min(j0 + NC, N)
                for i in range(i0, i1, TILE):
                    for j in range(j0, j1, TILE):
                        if i + TILE <= i1 and j + TILE <= j1:
                            _tile_4x4(a, bt, c, i, j, k0, k1)
                        else:
                            _tile_edge(a, bt, c, i, min(i + TILE, i1), j, min(j + TILE, j1), k0, k1)


def _matmul(kernel, a, b, pack_b=False):
    M, K, N = check_matmul("matmul", a, b)
    a2 = as_rows(a)
    b2 = np.ascontiguousarray(b.T) if pack_b else np.ascontiguousarray(b)
    c = np.empty((M, N), np.result_type(a, b))
    use_threads_for(M * N)
    kernel(a2, b2, c)
    return c.reshape(a.shape[:-1] + (N,))


def matmul_v1(a, b):
    """a (..., K) @ b (K, N) -> (..., N): one dot product per output, serial."""
    return _matmul(_matmul_v1, a, b)


def matmul_v2(a, b):
    """a (..., K) @ b (K, N) -> (..., N): i-k-j loops vectorized along rows, rows in parallel."""
    return _matmul(_matmul_v2, a, b)


def matmul_v3(a, b):
    """a (..., K) @ b (K, N) -> (..., N): cache blocks and 4x4 register tiles, in parallel."""
    return _matmul(_matmul_v3, a, b, pack_b=True)


matmul = matmul_v3
