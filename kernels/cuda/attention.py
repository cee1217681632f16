"""Fused (flash) scaled dot-product attention, forward and backward, on the GPU with Numba-CUDA.

Shapes. q, k, v, out, dout: (..., T, D) float32, flattened to (N, T, D) with N = B * H heads;
lse, delta: (N, T). Per head, S = scale q k^T (T, T), with `causal` S_ij = -inf for j > i,
P = softmax(S) along the keys, out = P v, and lse_i = log sum_j exp S_ij. The kernels never hold
S or P in global memory: memory is O(N T D), not O(N T^2).

Forward: the online softmax. The keys go by in tiles K_t, V_t of TILE rows (shared memory). A
query row i keeps a running max m, a running sum l = sum_j exp(S_ij - m) and an unnormalised
accumulator a = sum_j exp(S_ij - m) v_j over the keys seen so far. A tile with scores s_j gives

    m' = max(m, max_j s_j),   alpha = exp(m - m'),
    l' = alpha l + sum_j exp(s_j - m'),   a' = alpha a + sum_j exp(s_j - m') v_j

(alpha rescales what was summed under the old max; m = -inf, l = 0, a = 0 at the start, and
alpha = exp(-inf) = 0 then). After the last tile out_i = a / l and lse_i = m + log l. With
`causal` a block of queries q0..q1-1 stops at key q1 - 1: the tiles past the diagonal are never
loaded, about half of the work at long T.

Backward (flash attention 2's). With G = dout, the saved lse gives P without the softmax's
reductions: P_ij = exp(S_ij - lse_i). Then

    dv_j = sum_i P_ij G_i,   dP_ij = G_i . v_j,
    dS_ij = P_ij (dP_ij - delta_i),  delta_i = sum_j P_ij dP_ij = G_i . out_i,
    dq_i = scale sum_j dS_ij k_j,    dk_j = scale sum_i dS_ij q_i.

delta_i (the softmax backward's row dot product) comes from out and G in a pre-pass, one thread
per row, so the (T, T) dP is never summed. dk and dv sum over the queries: a block owns a tile of
keys and walks the query tiles (with `causal` from the diagonal on, queries i >= j only). dq sums
over the keys, which that walk spreads over many blocks: here a separate pass, a block per tile
of queries walking the key tiles, recomputes S and dP for its dq. The alternative, atomic float
adds into dq from every key block, makes the results depend on the order the blocks run (not
reproducible bit for bit) and contends on the same dq rows from every key tile; the second pass
costs two more (T, T, D) products (7 instead of 5) but no atomics and no zeroing of dq.

Versions (each validated against kernels.reference in the simulator, tests/cudasim):
  forward v1   one thread per query row, a block of block_size query rows per (head, query tile);
               K, V tiles in shared memory; each thread runs the recurrence above serially over
               the keys and dims (its accumulator in local memory)
  forward v2   one warp per query row, block_size / 32 rows per block sharing the K, V tiles:
               lane j scores key j of the tile (the q row in shared memory, the K tile padded
               to dodge bank conflicts) and posts it to the warp's row in shared memory; every
               lane reads the row back (broadcasts) for the tile's max, posts exp(s_j - m'),
               and reads those back for the sum and for dims d, d + 32, ... of P V (so at most
               4 accumulator registers for D <= 128). Posting through shared memory takes 3
               block barriers a tile where warp shuffles would take 10 exchanges (and, in the
               simulator, 20 barriers: far too slow to test)
  backward v1  the delta pre-pass; dk, dv: one thread per key row, a block of block_size keys
               walking the q, dout tiles in shared memory; dq: one thread per query row, a
               block walking the K, V tiles (three launches, no atomics)
No fastmath: the kernels rely on -inf (the running max's start, masked scores), which LLVM's fast
flags (no infinities) would allow it to drop.
Launchers take CuPy arrays (or NumPy arrays under NUMBA_ENABLE_CUDASIM=1), a softmax `scale`,
`causal` and a block size. D is at most MAX_HEAD_DIM. `attention_forward` is v2 and
`attention_backward` is v1 (not yet timed on a GPU).
"""
import math

from numba import cuda, float32

from ..shapes import check_attention_backward, check_attention_forward
from .launch import array_module, cdiv, check_block_size, launch
from .reductions import WARP

TILE = 32            # keys (forward, dq) or queries (dk, dv) per shared-memory tile
MAX_HEAD_DIM = 128   # D: the width of the shared tiles and local accumulators
MAX_WARPS = 16       # query rows per block in forward v2 (block_size <= 512): 46.5 KiB of shared memory
K_STRIDE = MAX_HEAD_DIM + 1      # forward v2's padded K tile rows
ACC_SLOTS = MAX_HEAD_DIM // WARP  # forward v2: the dims d = lane + 32 c a lane accumulates
NEG_INF = float32(-math.inf)


@cuda.jit(device=True, cache=True)
def _load_tile(src, head, row0, rows, dst):
    """dst[r, :D] = src[head, row0 + r, :D] for the r < rows with row0 + r < T, by the whole block."""
    T, D = src.shape[1], src.shape[2]
    for e in range(cuda.threadIdx.x, rows * D, cuda.blockDim.x):
        r, d = e // D, e % D
        if row0 + r < T:
            dst[r, d] = src[head, row0 + r, d]


@cuda.jit(device=True, cache=True)
def _visible_keys(T, q_end, causal):
    """Keys some query row < q_end of the block may see: block-uniform, so all threads take the
    same tiles (and barriers)."""
    return min(T, q_end) if causal else T


@cuda.jit(cache=True)
def _forward_v1(q, k, v, scale, causal, out, lse):
    k_tile = cuda.shared.array((TILE, MAX_HEAD_DIM), float32)
    v_tile = cuda.shared.array((TILE, MAX_HEAD_DIM), float32)
    acc = cuda.local.array(MAX_HEAD_DIM, float32)
    s = cuda.local.array(TILE, float32)
    head, rows = cuda.blockIdx.y, cuda.blockDim.x
    T, D = q.shape[1], q.shape[2]
    q0 = cuda.blockIdx.x * rows
    i = q0 + cuda.threadIdx.x
    for d in range(D):
        acc[d] = 0
    m, total = NEG_INF, float32(0)
    for k0 in range(0, _visible_keys(T, q0 + rows, causal), TILE):
        _load_tile(k, head, k0, TILE, k_tile)
        _load_tile(v, head, k0, TILE, v_tile)
        cuda.syncthreads()
        n = min(TILE, T - k0)
        if causal:
            n = min(n, i - k0 + 1)          # keys j <= i; none for a row above the tile
        if i < T and n > 0:
            tile_max = NEG_INF
            for j in range(n):
                dot = float32(0)
                for d in range(D):
                    dot += q[head, i, d] * k_tile[j, d]
                s[j] = dot * scale
                tile_max = max(tile_max, s[j])
            m_new = max(m, tile_max)
            alpha = math.exp(m - m_new)
            total *= alpha
            for d in range(D):
                acc[d] *= alpha
            for j in range(n):
                p = math.exp(s[j] - m_new)
                total += p
                for d in range(D):
                    acc[d] += p * v_tile[j, d]
            m = m_new
        cuda.syncthreads()
    if i < T:
        inv = float32(1) / total
        for d in range(D):
            out[head, i, d] = acc[d] * inv
        lse[head, i] = m + math.log(total)


@cuda.jit(cache=True)
def _forward_v2(q, k, v, scale, causal, out, lse):
    k_tile = cuda.shared.array((TILE, K_STRIDE), float32)  # lane j reads row j: 129-word rows, 32 banks
    v_tile = cuda.shared.array((TILE, MAX_HEAD_DIM), float32)
    q_rows = cuda.shared.array((MAX_WARPS, MAX_HEAD_DIM), float32)
    s_rows = cuda.shared.array((MAX_WARPS, TILE), float32)
    p_rows = cuda.shared.array((MAX_WARPS, TILE), float32)
    acc = cuda.local.array(ACC_SLOTS, float32)
    head, warp, lane = cuda.blockIdx.y, cuda.threadIdx.x // WARP, cuda.threadIdx.x % WARP
    warps = cuda.blockDim.x // WARP
    T, D = q.shape[1], q.shape[2]
    q0 = cuda.blockIdx.x * warps
    i = q0 + warp
    for d in range(lane, D, WARP):
        q_rows[warp, d] = q[head, i, d] if i < T else float32(0)
    for c in range(ACC_SLOTS):
        acc[c] = 0
    m, total = NEG_INF, float32(0)
    for k0 in range(0, _visible_keys(T, q0 + warps, causal), TILE):
        _load_tile(k, head, k0, TILE, k_tile)
        _load_tile(v, head, k0, TILE, v_tile)
        cuda.syncthreads()
        j = k0 + lane
        score = NEG_INF
        if i < T and j < T and (not causal or j <= i):
            dot = float32(0)
            for d in range(D):
                dot += q_rows[warp, d] * k_tile[lane, d]
            score = dot * scale
        s_rows[warp, lane] = score
        cuda.syncthreads()                  # the warp's scores are posted
        m_new = m
        for jj in range(TILE):              # every lane reads the same word: a broadcast
            m_new = max(m_new, s_rows[warp, jj])
        p_rows[warp, lane] = math.exp(score - m_new) if score != NEG_INF else float32(0)
        alpha = math.exp(m - m_new) if m_new != NEG_INF else float32(1)
        cuda.syncthreads()                  # the warp's probabilities are posted
        tile_sum = float32(0)
        for jj in range(TILE):
            tile_sum += p_rows[warp, jj]
        total = total * alpha + tile_sum
        for c in range(ACC_SLOTS):
            d = lane + c * WARP
            if d < D:
                a = acc[c] * alpha
                for jj in range(min(TILE, T - k0)):
                    a += p_rows[warp, jj] * v_tile[jj, d]
                acc[c] = a
        m = m_new
        cuda.syncthreads()                  # before the next tiles overwrite these
    if i < T:
        inv = float32(1) / total
        for c in range(ACC_SLOTS):
            d = lane + c * WARP
            if d < D:
                out[head, i, d] = acc[c] * inv
        if lane == 0:
            lse[head, i] = m + math.log(total)


@cuda.jit(cache=True)
def _row_dot(dout, out, delta):
    """delta[r] = dout[r] . out[r], one thread per row of the (rows, D) arrays."""
    r = cuda.grid(1)
    if r < out.shape[0]:
        dot = float32(0)
        for d in range(out.shape[1]):
            dot += dout[r, d] * out[r, d]
        delta[r] = dot


@cuda.jit(cache=True)
def _backward_dkdv_v1(q, k, v, dout, lse, delta, scale, causal, dk, dv):
    q_tile = cuda.shared.array((TILE, MAX_HEAD_DIM), float32)
    g_tile = cuda.shared.array((TILE, MAX_HEAD_DIM), float32)
    lse_tile = cuda.shared.array(TILE, float32)
    delta_tile = cuda.shared.array(TILE, float32)
    dk_acc = cuda.local.array(MAX_HEAD_DIM, float32)
    dv_acc = cuda.local.array(MAX_HEAD_DIM, float32)
    head, t, rows = cuda.blockIdx.y, cuda.threadIdx.x, cuda.blockDim.x
    T, D = q.shape[1], q.shape[2]
    k0 = cuda.blockIdx.x * rows
    j = k0 + t
    for d in range(D):
        dk_acc[d] = 0
        dv_acc[d] = 0
    first = k0 // TILE * TILE if causal else 0  # causal: queries i >= j >= k0 only
    for i0 in range(first, T, TILE):
        _load_tile(q, head, i0, TILE, q_tile)
        _load_tile(dout, head, i0, TILE, g_tile)
        if t < TILE and i0 + t < T:
            lse_tile[t] = lse[head, i0 + t]
            delta_tile[t] = delta[head, i0 + t]
        cuda.syncthreads()
        if j < T:
            for ii in range(min(TILE, T - i0)):
                if causal and i0 + ii < j:
                    continue
                s, dp = float32(0), float32(0)
                for d in range(D):
                    s += q_tile[ii, d] * k[head, j, d]
                    dp += g_tile[ii, d] * v[head, j, d]
                p = math.exp(s * scale - lse_tile[ii])
                ds = p * (dp - delta_tile[ii])
                for d in range(D):
                    dv_acc[d] += p * g_tile[ii, d]
                    dk_acc[d] += ds * q_tile[ii, d]
        cuda.syncthreads()
    if j < T:
        for d in range(D):
            dk[head, j, d] = dk_acc[d] * scale
            dv[head, j, d] = dv_acc[d]


@cuda.jit(cache=True)
def _backward_dq_v1(q, k, v, dout, lse, delta, scale, causal, dq):
    k_tile = cuda.shared.array((TILE, MAX_HEAD_DIM), float32)
    v_tile = cuda.shared.array((TILE, MAX_HEAD_DIM), float32)
    acc = cuda.local.array(MAX_HEAD_DIM, float32)
    head, rows = cuda.blockIdx.y, cuda.blockDim.x
    T, D = q.shape[1], q.shape[2]
    q0 = cuda.blockIdx.x * rows
    i = q0 + cuda.threadIdx.x
    for d in range(D):
        acc[d] = 0
    row_lse = lse[head, i] if i < T else float32(0)
    row_delta = delta[head, i] if i < T else float32(0)
    for k0 in range(0, _visible_keys(T, q0 + rows, causal), TILE):
        _load_tile(k, head, k0, TILE, k_tile)
        _load_tile(v, head, k0, TILE, v_tile)
        cuda.syncthreads()
        n = min(TILE, T - k0)
        if causal:
            n = min(n, i - k0 + 1)
        if i < T:
            for jj in range(n):
                s, dp = float32(0), float32(0)
                for d in range(D):
                    s += q[head, i, d] * k_tile[jj, d]
                    dp += dout[head, i, d] * v_tile[jj, d]
                ds = math.exp(s * scale - row_lse) * (dp - row_delta)
                for d in range(D):
                    acc[d] += ds * k_tile[jj, d]
        cuda.syncthreads()
    if i < T:
        for d in range(D):
            dq[head, i, d] = acc[d] * scale


def _heads(xp, a):
    """a (..., T, D) as a C-contiguous (N, T, D) array."""
    return xp.ascontiguousarray(a).reshape(-1, a.shape[-2], a.shape[-1])


def _check_head_dim(op, q):
    if q.shape[-1] > MAX_HEAD_DIM:
        raise ValueError(f"{op}: head dimension D must be at most {MAX_HEAD_DIM}, got q {tuple(q.shape)}")


def _forward(kernel, rows_per_block, q, k, v, scale, causal, block_size, largest=1024):
    check_attention_forward("attention_forward", q, k, v)
    if q.dtype != "float32":
        raise ValueError(f"attention_forward: the CUDA kernels take float32, got {q.dtype}")
    _check_head_dim("attention_forward", q)
    check_block_size("attention_forward", block_size, largest=largest)
    xp = array_module(q)
    qh, kh, vh = (_heads(xp, a) for a in (q, k, v))
    out = xp.empty_like(qh)
    lse = xp.empty(qh.shape[:2], q.dtype)
    N, T = qh.shape[:2]
    if N:
        launch(kernel, (cdiv(T, rows_per_block), N), block_size, qh, kh, vh, float32(scale), bool(causal), out, lse)
    return out.reshape(q.shape), lse.reshape(q.shape[:-1])


def attention_forward_v1(q, k, v, scale, causal, block_size=64):
    """(out, lse) of softmax(scale q k^T (causal-masked)) v; q, k, v (..., T, D): thread per query row."""
    return _forward(_forward_v1, block_size, q, k, v, scale, causal, block_size)


def attention_forward_v2(q, k, v, scale, causal, block_size=256):
    """(out, lse) of attention: one warp per query row, lanes over a tile's keys, then over dims.
    block_size / 32 query rows per block, at most MAX_WARPS (512 threads)."""
    return _forward(_forward_v2, block_size // WARP, q, k, v, scale, causal, block_size, largest=WARP * MAX_WARPS)


def attention_backward_v1(q, k, v, out, lse, dout, scale, causal, block_size=64):
    """(dq, dk, dv) of attention from the saved out and lse: the delta pre-pass, a key-tile pass
    for dk, dv and a query-tile pass for dq (block_size rows per block in both)."""
    check_attention_backward("attention_backward", q, k, v, out, lse, dout)
    if q.dtype != "float32":
        raise ValueError(f"attention_backward: the CUDA kernels take float32, got {q.dtype}")
    _check_head_dim("attention_backward", q)
    check_block_size("attention_backward", block_size)
    xp = array_module(q)
    qh, kh, vh, outh, gh = (_heads(xp, a) for a in (q, k, v, out, dout))
    N, T, D = qh.shape
    lse_h = xp.ascontiguousarray(lse).reshape(N, T)
    delta = xp.empty((N, T), q.dtype)
    dq, dk, dv = xp.empty_like(qh), xp.empty_like(qh), xp.empty_like(qh)
    if N:
        launch(_row_dot, cdiv(N * T, block_size), block_size, gh.reshape(N * T, D), outh.reshape(N * T, D),
               delta.reshape(N * T))
        scale, causal = float32(scale), bool(causal)
        grid = (cdiv(T, block_size), N)
        launch(_backward_dkdv_v1, grid, block_size, qh, kh, vh, gh, lse_h, delta, scale, causal, dk, dv)
        launch(_backward_dq_v1, grid, block_size, qh, kh, vh, gh, lse_h, delta, scale, causal, dq)
    return dq.reshape(q.shape), dk.reshape(q.shape), dv.reshape(q.shape)


attention_forward = attention_forward_v2
attention_backward = attention_backward_v1

VERSIONS = {"attention_forward": (attention_forward_v1, attention_forward_v2),
            "attention_backward": (attention_backward_v1,)}
