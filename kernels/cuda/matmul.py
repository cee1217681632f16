"""Matrix multiply c = a @ b on the GPU with Numba-CUDA, a (..., K) and b (K, N) -> c (..., N).

Versions (each validated against kernels.reference before it is timed):
  v1  one thread per output, a dot product read straight from global memory; blocks of
      32 x (block_size / 32) threads, 32 consecutive columns per warp so loads of b coalesce
  v2  shared-memory tiles: a T x T block (T^2 = block_size: 64, 256 or 1024) stages a T x T
      tile of a and of b in shared memory, and each value loaded is used T times
  v3  2-D register blocking: a block computes a BM x BN tile of c from BK-deep slices of a
      and b staged in shared memory; each thread accumulates a TM x TN sub-tile in
      registers from TM values of a and TN of b per step (TM * TN FMAs per TM + TN loads).
      Threads own strided rows/columns of the tile, so a warp reads shared memory without
      bank conflicts. block_size picks the shape: 64 -> 64x64 tiles, 256 -> 128x128.
Launchers take CuPy arrays (or NumPy arrays under NUMBA_ENABLE_CUDASIM=1) and a block size.
`matmul` is v3 (the framework uses cuBLAS through CuPy unless asked for this one).
"""
import functools

from numba import cuda, float32

from ..shapes import check_matmul
from .launch import array_module, as_rows, cdiv, check_block_size, launch

MAX_TILE = 32
REGISTER_TILINGS = {64: (64, 64, 8, 8, 8), 256: (128, 128, 8, 8, 8)}  # block_size: BM, BN, BK, TM, TN


@cuda.jit(fastmath=True, cache=True)
def _matmul_v1(a, b, c):
    col, row = cuda.grid(2)
    if row < c.shape[0] and col < c.shape[1]:
        s = float32(0)
        for k in range(a.shape[1]):
            s += a[row, k] * b[k, col]
        c[row, col] = s


@cuda.jit(fastmath=True, cache=True)
def _matmul_v2(a, b, c):
    a_tile = cuda.shared.array((MAX_TILE, MAX_TILE), float32)
    b_tile = cuda.shared.array((MAX_TILE, MAX_TILE), float32)
    tx, ty, T = cuda.threadIdx.x, cuda.threadIdx.y, cuda.blockDim.x
    row, col = cuda.blockIdx.y * T + ty, cuda.blockIdx.x * T + tx
    M, K = a.shape
    N = b.shape[1]
    s = float32(0)
    for k0 in range(0, K, T):
        a_tile[ty, tx] = a[row, k0 + tx] if row < M and k0 + tx < K else float32(0)
        b_tile[ty, tx] = b[k0 + ty, col] if k0 + ty < K and col < N else float32(0)
        cuda.syncthreads()
        for k in range(T):
            s += a_tile[ty, k] * b_tile[k, tx]
        cuda.syncthreads()
    if row < M and col < N:
        c[row, col] = s


@functools.cache
def _register_tiled_kernel(BM, BN, BK, TM, TN):
    """The v3 kernel for one tiling; its tile sizes are compile-time constants."""
    THREADS_M, THREADS_N = BM // TM, BN // TN
    THREADS = THREADS_M * THREADS_N

    @cuda.jit(fastmath=True, cache=True)
    def matmul_register_tiled(a, b, c):
        a_tile = cuda.shared.array((BK, BM), float32)  # transposed: a_tile[k, i] = a[row0 + i, k0 + k]
        b_tile = cuda.shared.array((BK, BN), float32)
        acc = cuda.local.array((TM, TN), float32)
        a_reg = cuda.local.array(TM, float32)
        b_reg = cuda.local.array(TN, float32)
        t = cuda.threadIdx.x
        ti, tj = t // THREADS_N, t % THREADS_N
        row0, col0 = cuda.blockIdx.y * BM, cuda.blockIdx.x * BN
        M, K = a.shape
        N = b.shape[1]
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = float32(0)
        for k0 in range(0, K, BK):
            for idx in range(t, BM * BK, THREADS):
                i, k = idx // BK, idx % BK
                inside = row0 + i < M and k0 + k < K
                a_tile[k, i] = a[row0 + i, k0 + k] if inside else float32(0)
            for idx in range(t, BK * BN, THREADS):
                k, j = idx // BN, idx % BN
                inside = k0 + k < K and col0 + j < N
                b_tile[k, j] = b[k0 + k, col0 + j] if inside else float32(0)
            cuda.syncthreads()
            for k in range(BK):
                for i in range(TM):
                    a_reg[i] = a_tile[k, ti + i * THREADS_M]
                for j in range(TN):
                    b_reg[j] = b_tile[k, tj + j * THREADS_N]
                for i in range(TM):
                    for j in range(TN):
                        acc[i, j] += a_reg[i] * b_reg[j]
            cuda.syncthreads()
        for i in range(TM):
            for j in range(TN):
                row, col = row0 + ti + i * THREADS_M, col0 + tj + j * THREADS_N
                if row < M and col < N:
                    c[row, col] = acc[i, j]

    return matmul_register_tiled


def _matmul(a, b, run):
    M, K, N = check_matmul("matmul", a, b)
    xp = array_module(a)
    a2, b2 = as_rows(xp, a), xp.ascontiguousarray(b)
    c = xp.empty((M, N), a.dtype)
    if M and N:
        run(a2, b2, c)
    return c.reshape(a.shape[:-1] + (N,))


def matmul_v1(a, b, block_size=256):
    """a (..., K) @ b (K, N) -> (..., N): one thread per output."""
    check_block_size("matmul_v1", block_size)
    rows_per_block = block_size // 32

    def run(a, b, c):
        grid = (cdiv(c.shape[1], 32), cdiv(c.shape[0], rows_per_block))
        launch(_matmul_v1, grid, (32, rows_per_block), a, b, c)
    return _matmul(a, b, run)


def matmul_v2(a, b, block_size=256):
    """a (..., K) @ b (K, N) -> (..., N): shared-memory tiles of sqrt(block_size)^2."""
    tile = {64: 8, 256: 16, 1024: 32}.get(block_size)
    if tile is None:
        raise ValueError(f"matmul_v2: block_size must be 64, 256 or 1024 (square tiles), got {block_size!r}")

    def run(a, b, c):
        launch(_matmul_v2, (cdiv(c.shape[1], tile), cdiv(c.shape[0], tile)), (tile, tile), a, b, c)
    return _matmul(a, b, run)


def matmul_v3(a, b, block_size=256):
    """a (..., K) @ b (K, N) -> (..., N): register-blocked tiles (block_size 64 or 256)."""
    if block_size not in REGISTER_TILINGS:
        raise ValueError(f"matmul_v3: block_size must be one of {sorted(REGISTER_TILINGS)}, got {block_size!r}")
    BM, BN, BK, TM, TN = REGISTER_TILINGS[block_size]
    kernel = _register_tiled_kernel(BM, BN, BK, TM, TN)

    def run(a, b, c):
        launch(kernel, (cdiv(c.shape[1], BN), cdiv(c.shape[0], BM)), block_size, a, b, c)
    return _matmul(a, b, run)


matmul = matmul_v3
