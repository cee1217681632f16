"""Self-attention a whole head at a time, forward and backward, on the CPU with Numba: one kernel
each way, in parallel over the heads.

    attention_heads_forward_(q, k, v, scale, causal, out, p)                -> (out, p)
    attention_heads_backward_(q, k, v, p, dout, scale, causal, dq, dk, dv)  -> (dq, dk, dv)

q, k, v, out, dout, dq, dk, dv are (B, H, T, D) float32 arrays, p is (B, H, T, T); the kernels write
into out, p and dq, dk, dv and return them. Any strides are accepted; arrays whose rows (the last
axis) are contiguous and whose strides are not negative (the heads of a fused qkv projection, and
their gradients laid out the same way) are read and written in place, others through one copy.

The math, per head (q, k, v (T, D), G = dL/dout (T, D)):

    S = scale q k^T,   P = softmax(S) row-wise,   out = P v,

with `causal`: query i sees keys j <= i only (torch's top-left aligned tril), S_ij = -inf and
P_ij = 0 above the diagonal. The backward, from dL = sum_ij G_ij d(out)_ij:

    out = P v                 ->  dv = P^T G,   dP = G v^T,
    P_ij = exp(S_ij) / sum_l exp(S_il), so dP_ij/dS_il = P_ij (delta_jl - P_il), and
        dS_il = sum_j dP_ij P_ij (delta_jl - P_il) = P_il (dP_il - sum_j dP_ij P_ij),
    S = scale q k^T           ->  dq = scale dS k,   dk = scale dS^T q.

The masked entries have P_ij = 0, hence dS_ij = 0: row i skips the keys j > i in every product,
forward and backward (all but the last block of W keys of a row exactly).

The baseline, which ScaledDotProductAttention ran before and still runs for masks, dropout, other
dtypes and long sequences, is batched np.matmul over the heads with the in-place softmax kernels of
attention_softmax.py between the products: OpenBLAS runs each head's small product on one thread,
computes the masked half, and the (B, H, T, T) scores go through memory between the steps. Here a
head goes from end to end while its q, k, v and scores stay in L1. P is kept for the backward
(B H T^2 floats, as the baseline keeps it): recomputing it from the row log-sum-exp would cost the
backward a third product with q k^T and an exp per score, which at T = 16 to 64 costs more than
reading P back.

How it runs fast:
  - Each thread takes a share of the heads (_share) and allocates its buffers once; per head it
    copies q, k, v (and G, P) into them, contiguous and zero-padded to multiples of W = 16 floats
    (one AVX-512 vector), k (forward) and v (backward) transposed to (D, T).
  - The products run on explicit 16-float vectors (vectors.py): R = 8 rows of the result at a time,
    each holding one vector of sums in a register, each vector loaded from k^T, v, k, q or G feeding
    R fused multiply-adds (a Numba loop that accumulates into an array goes through memory on
    every step instead: LLVM cannot tell the arrays apart).
        scores   s[i, j0:j0+W] = sum_d q_id k^T[d, j0:j0+W]      (_rows_times_transposed; dP from G, v^T)
        out      out[i, c0:c0+W] = sum_j P_ij v[j, c0:c0+W]      (_weighted_rows; dq from dS, k)
        dk, dv   dk[j, c0:c0+W] = sum_i dS_ij q[i, c0:c0+W]       (_weighted_columns, over i >= j)
  - The softmax of a row runs on the same vectors, over the key blocks its block of R rows sees:
    the masked keys set to -inf (first_lanes), the maximum, exp (vectormath's polynomial, lane by
    lane), the sum, then the normalization; exp(-inf) = 0 makes the masked weights exact zeros.
  - The arrays in memory are read and written through 1-d views of their memory indexed with
    unsigned offsets (_memory, _start), so that Numba's negative-index wraparound does not stop the
    copies from vectorizing.

Measured on the box's 2 shared cores (Xeon, AVX-512), forward + backward through the Function with
q, k, v views of a qkv projection, causal, median of 500 (old path -> these kernels): the GPT's
B=12, H=4, T=64, D=32 1.94 -> 1.60 ms at one thread, 1.91 -> 1.25 ms at two; makemore's B=32, H=4,
T=16, D=16 0.63 -> 0.57 ms at one, 0.61 -> 0.56 ms at two (its kernels stay on one thread, _work).
Each includes about 0.6 ms of view, split and autograd work that the two paths share.
"""
import contextlib

import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from ..shapes import check_attention_heads_backward, check_attention_heads_forward
from .target import FASTMATH
from .threads import use_threads_for
from .vectors import W, add, exp, first_lanes, fma, lane_max, lane_sum, load, maximum, mul, splat, store, sub, zeros

R = 8  # query rows (or key columns) per step: each vector of k, v, q or G loaded feeds R sums


@njit(cache=True)
def _blocks(n):
    """n rounded up to a multiple of W."""
    return (n + W - 1) // W * W


@intrinsic
def _elements(typingctx, a, n):
    """The n elements of memory from a's first one, as a 1-d C-contiguous array that shares a's memory."""
    if not (isinstance(a, types.Array) and isinstance(n, types.Integer)):
        return None
    flat = types.Array(a.dtype, 1, "C")

    def codegen(context, builder, signature, args):
        source = context.make_array(signature.args[0])(context, builder, args[0])
        view = context.make_array(flat)(context, builder)
        count = context.cast(builder, args[1], signature.args[1], types.intp)
        populate_array(view, data=source.data, shape=cgutils.pack_array(builder, [count]),
                       strides=cgutils.pack_array(builder, [source.itemsize]), itemsize=source.itemsize,
                       meminfo=source.meminfo, parent=source.parent)
        return impl_ret_borrowed(context, builder, flat, view._getvalue())

    return flat(a, n), codegen


@njit(cache=True)
def _memory(a):
    """a (B, H, T, X) with contiguous rows and no negative stride (_flat_rows) as (the 1-d array of its
    memory from its first element to its last, its element strides along B, H and T): the kernels index
    that array with unsigned offsets (_start), where LLVM sees each row as contiguous."""
    item = a.itemsize
    extent = 1
    for n, stride in zip(a.shape, a.strides):
        extent += (n - 1) * (stride // item)
    return _elements(a, extent if a.size else 0), (a.strides[0] // item, a.strides[1] // item, a.strides[2] // item)


@njit(cache=True)
def _start(strides, b, h, i):
    """Where row a[b, h, i] starts in a's memory (see _memory), unsigned: indexing with it skips Numba's
    negative-index wraparound, which would keep the copies below from vectorizing."""
    return np.uintp(b * strides[0] + h * strides[1] + i * strides[2])


@njit(fastmath=FASTMATH, cache=True)
def _into(a, strides, b, h, T, D, scale, dest):
    """dest[:T, :D] <- scale a[b, h] for a (B, H, T, D) given as its memory (see _memory) and strides;
    dest (T', D') zero beyond."""
    for i in range(T):
        row = _start(strides, b, h, i)
        for d in range(np.uintp(D)):
            dest[i, d] = a[row + d] * scale


@njit(fastmath=FASTMATH, cache=True)
def _transposed_into(a, strides, b, h, T, D, dest):
    """dest[:D, :T] <- a[b, h] transposed (a as in _into); dest (D, T') zero beyond."""
    for i in range(T):
        row = _start(strides, b, h, i)
        for d in range(np.uintp(D)):
            dest[d, i] = a[row + d]


@njit(fastmath=FASTMATH, cache=True)
def _rows_out(rows, i0, out, strides, b, h, T, D):
    """out[b, h, i0 + r, :D] <- rows[r, :D] for the rows r that exist (i0 + r < T); out as in _into."""
    for r in range(min(R, T - i0)):
        row = _start(strides, b, h, i0 + r)
        for c in range(np.uintp(D)):
            out[row + c] = rows[r, c]


@njit(fastmath=FASTMATH, cache=True)
def _rows_times_transposed(a, b_t, i0, n_keys, out, out_row0):
    """out[out_row0 + r, :n_keys] <- a[i0 + r] b_t[:, :n_keys] for the R rows r (n_keys a multiple of W):
    R rows of q k^T (b_t = k^T) or of G v^T, the sums in registers over the D steps."""
    for j0 in range(0, n_keys, W):
        s0, s1, s2, s3, s4, s5, s6, s7 = zeros(), zeros(), zeros(), zeros(), zeros(), zeros(), zeros(), zeros()
        for d in range(b_t.shape[0]):
            b = load(b_t, d, j0)
            s0 = fma(splat(a[i0, d]), b, s0)
            s1 = fma(splat(a[i0 + 1, d]), b, s1)
            s2 = fma(splat(a[i0 + 2, d]), b, s2)
            s3 = fma(splat(a[i0 + 3, d]), b, s3)
            s4 = fma(splat(a[i0 + 4, d]), b, s4)
            s5 = fma(splat(a[i0 + 5, d]), b, s5)
            s6 = fma(splat(a[i0 + 6, d]), b, s6)
            s7 = fma(splat(a[i0 + 7, d]), b, s7)
        store(out, out_row0, j0, s0)
        store(out, out_row0 + 1, j0, s1)
        store(out, out_row0 + 2, j0, s2)
        store(out, out_row0 + 3, j0, s3)
        store(out, out_row0 + 4, j0, s4)
        store(out, out_row0 + 5, j0, s5)
        store(out, out_row0 + 6, j0, s6)
        store(out, out_row0 + 7, j0, s7)


@njit(fastmath=FASTMATH, cache=True)
def _weighted_rows(w, w_row0, b, j_first, j_stop, out):
    """out[r, :] <- sum_{j_first <= j < j_stop} w[w_row0 + r, j] b[j, :] for the R rows r (P v, dS k)."""
    for c0 in range(0, b.shape[1], W):
        s0, s1, s2, s3, s4, s5, s6, s7 = zeros(), zeros(), zeros(), zeros(), zeros(), zeros(), zeros(), zeros()
        for j in range(j_first, j_stop):
            x = load(b, j, c0)
            s0 = fma(splat(w[w_row0, j]), x, s0)
            s1 = fma(splat(w[w_row0 + 1, j]), x, s1)
            s2 = fma(splat(w[w_row0 + 2, j]), x, s2)
            s3 = fma(splat(w[w_row0 + 3, j]), x, s3)
            s4 = fma(splat(w[w_row0 + 4, j]), x, s4)
            s5 = fma(splat(w[w_row0 + 5, j]), x, s5)
            s6 = fma(splat(w[w_row0 + 6, j]), x, s6)
            s7 = fma(splat(w[w_row0 + 7, j]), x, s7)
        store(out, 0, c0, s0)
        store(out, 1, c0, s1)
        store(out, 2, c0, s2)
        store(out, 3, c0, s3)
        store(out, 4, c0, s4)
        store(out, 5, c0, s5)
        store(out, 6, c0, s6)
        store(out, 7, c0, s7)


@njit(fastmath=FASTMATH, cache=True)
def _weighted_columns(w, j0, b, i_first, out):
    """out[r, :] <- sum_{i >= i_first} w[i, j0 + r] b[i, :] for the R columns j0 + r (P^T G, dS^T q)."""
    for c0 in range(0, b.shape[1], W):
        s0, s1, s2, s3, s4, s5, s6, s7 = zeros(), zeros(), zeros(), zeros(), zeros(), zeros(), zeros(), zeros()
        for i in range(i_first, b.shape[0]):
            x = load(b, i, c0)
            s0 = fma(splat(w[i, j0]), x, s0)
            s1 = fma(splat(w[i, j0 + 1]), x, s1)
            s2 = fma(splat(w[i, j0 + 2]), x, s2)
            s3 = fma(splat(w[i, j0 + 3]), x, s3)
            s4 = fma(splat(w[i, j0 + 4]), x, s4)
            s5 = fma(splat(w[i, j0 + 5]), x, s5)
            s6 = fma(splat(w[i, j0 + 6]), x, s6)
            s7 = fma(splat(w[i, j0 + 7]), x, s7)
        store(out, 0, c0, s0)
        store(out, 1, c0, s1)
        store(out, 2, c0, s2)
        store(out, 3, c0, s3)
        store(out, 4, c0, s4)
        store(out, 5, c0, s5)
        store(out, 6, c0, s6)
        store(out, 7, c0, s7)


@njit(cache=True)
def _share(n_heads, part, parts):
    """Heads first:stop of part `part` of `parts` (as equal as can be)."""
    return part * n_heads // parts, (part + 1) * n_heads // parts


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _forward(q, k, v, scale, causal, out, p, threads):
    """attention_heads_forward_ on `threads` threads, each over a share of the B H heads."""
    shape = q.shape
    (q, q_s), (k, k_s), (v, v_s), (out, out_s), (p, p_s) = _memory(q), _memory(k), _memory(v), _memory(out), _memory(p)
    n_heads = shape[0] * shape[1]
    parts = min(threads, n_heads)  # one part a thread: each allocates its buffers once
    for part in prange(parts):
        first, stop = _share(n_heads, part, parts)
        _forward_heads(shape, first, stop, q, q_s, k, k_s, v, v_s, scale, causal, out, out_s, p, p_s)


@njit(fastmath=FASTMATH, cache=True)
def _forward_heads(shape, first, stop, q, q_s, k, k_s, v, v_s, scale, causal, out, out_s, p, p_s):
    """Heads first:stop (flattened over B, H) of _forward, through buffers allocated once: each head
    writes the same [:T, :D] corner of them, so their zero padding stays zero."""
    B, H, T, D = shape
    Tp, Dp = _blocks(T), _blocks(D)
    t = np.float32
    qs = np.zeros((Tp, D), t)
    k_t = np.zeros((D, Tp), t)
    vs = np.zeros((Tp, Dp), t)
    s = np.empty((R, Tp), t)
    o = np.empty((R, Dp), t)
    for head in range(first, stop):
        b, h = head // H, head % H
        _into(q, q_s, b, h, T, D, t(scale), qs)
        _transposed_into(k, k_s, b, h, T, D, k_t)
        _into(v, v_s, b, h, T, D, t(1), vs)
        for i0 in range(0, T, R):
            n_keys = _blocks(min(i0 + R, T) if causal else T)  # the keys the block's last row sees
            _rows_times_transposed(qs, k_t, i0, n_keys, s, 0)
            for r in range(R):
                n = min(i0 + r + 1, T) if causal else T
                m = splat(t(-np.inf))
                for j0 in range(0, n_keys, W):
                    x = first_lanes(load(s, r, j0), n - j0, t(-np.inf))  # the keys j >= n masked
                    store(s, r, j0, x)
                    m = maximum(m, x)
                m = splat(lane_max(m))
                total = zeros()
                for j0 in range(0, n_keys, W):
                    e = exp(sub(load(s, r, j0), m))  # exp(-inf) = 0: the masked keys
                    store(s, r, j0, e)
                    total = add(total, e)
                inv = splat(t(1) / lane_sum(total))
                for j0 in range(0, n_keys, W):
                    store(s, r, j0, mul(load(s, r, j0), inv))
            _rows_out(s, i0, p, p_s, b, h, T, min(n_keys, T))  # P, then 0 for the keys past n_keys
            for i in range(i0, min(i0 + R, T)):
                row = _start(p_s, b, h, i)
                for j in range(np.uintp(n_keys), np.uintp(T)):
                    p[row + j] = 0
            _weighted_rows(s, 0, vs, 0, n_keys, o)
            _rows_out(o, i0, out, out_s, b, h, T, D)


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _backward(q, k, v, p, g, scale, causal, dq, dk, dv, threads):
    """attention_heads_backward_ on `threads` threads, each over a share of the B H heads."""
    shape = q.shape
    (q, q_s), (k, k_s), (v, v_s), (p, p_s), (g, g_s) = _memory(q), _memory(k), _memory(v), _memory(p), _memory(g)
    (dq, dq_s), (dk, dk_s), (dv, dv_s) = _memory(dq), _memory(dk), _memory(dv)
    n_heads = shape[0] * shape[1]
    parts = min(threads, n_heads)  # one part a thread: each allocates its buffers once
    for part in prange(parts):
        first, stop = _share(n_heads, part, parts)
        _backward_heads(shape, first, stop, q, q_s, k, k_s, v, v_s, p, p_s, g, g_s, scale, causal, dq, dq_s, dk, dk_s,
                        dv, dv_s)


@njit(fastmath=FASTMATH, cache=True)
def _backward_heads(shape, first, stop, q, q_s, k, k_s, v, v_s, p, p_s, g, g_s, scale, causal, dq, dq_s, dk, dk_s,
                    dv, dv_s):
    """Heads first:stop of _backward, through buffers allocated once (as _forward_heads). The rows of
    dS that the column sums read and no head writes (T' - T past the last block of R) stay zero, and
    so do a causal row's keys past its block's n_keys where a column sum reads them (never: a query
    i >= j0 sees key j0 + R - 1 by its block's n_keys)."""
    B, H, T, D = shape
    Tp, Dp = _blocks(T), _blocks(D)
    t = np.float32
    qs = np.zeros((Tp, Dp), t)
    ks = np.zeros((Tp, Dp), t)
    v_t = np.zeros((D, Tp), t)
    gs = np.zeros((Tp, Dp), t)
    ps = np.zeros((Tp, Tp), t)
    ds = np.zeros((Tp, Tp), t)
    o = np.empty((R, Dp), t)
    for head in range(first, stop):
        b, h = head // H, head % H
        _into(q, q_s, b, h, T, D, t(1), qs)
        _into(k, k_s, b, h, T, D, t(1), ks)
        _transposed_into(v, v_s, b, h, T, D, v_t)
        _into(g, g_s, b, h, T, D, t(1), gs)
        _into(p, p_s, b, h, T, T, t(1), ps)
        for i0 in range(0, T, R):
            n_keys = _blocks(min(i0 + R, T) if causal else T)
            _rows_times_transposed(gs, v_t, i0, n_keys, ds, i0)  # dP
            for i in range(i0, i0 + R):
                delta = zeros()
                for j0 in range(0, n_keys, W):
                    delta = fma(load(ds, i, j0), load(ps, i, j0), delta)
                minus_delta = splat(-lane_sum(delta))
                for j0 in range(0, n_keys, W):  # dS = scale P (dP - delta): 0 where P is
                    store(ds, i, j0, mul(mul(splat(t(scale)), load(ps, i, j0)), add(load(ds, i, j0), minus_delta)))
            _weighted_rows(ds, i0, ks, 0, n_keys, o)  # dq
            _rows_out(o, i0, dq, dq_s, b, h, T, D)
        for j0 in range(0, T, R):
            i_first = j0 if causal else 0  # the first query that sees key j0
            _weighted_columns(ds, j0, qs, i_first, o)  # dk
            _rows_out(o, j0, dk, dk_s, b, h, T, D)
            _weighted_columns(ps, j0, gs, i_first, o)  # dv
            _rows_out(o, j0, dv, dv_s, b, h, T, D)


def _flat_rows(a):
    """Whether a kernel can read or write a (B, H, T, X) in place: rows contiguous, no negative stride."""
    return (a.strides[-1] == a.itemsize or a.shape[-1] == 1) and min(a.strides) >= 0


def _readable(a):
    """a, or a contiguous copy when its layout is not _flat_rows."""
    return a if _flat_rows(a) else np.ascontiguousarray(a)


@contextlib.contextmanager
def _writable(arrays):
    """The arrays to write, each through a contiguous buffer copied back afterwards where its layout is
    not _flat_rows (never for the layouts ScaledDotProductAttention makes)."""
    buffers = [a if _flat_rows(a) else np.empty(a.shape, a.dtype) for a in arrays]
    yield buffers
    for a, buffer in zip(arrays, buffers):
        if buffer is not a:
            a[...] = buffer


def _work(q):
    """The work of a call in threads.py's elements: B H T^2 D / 8, since a (score, head-dim) pair costs
    about an eighth of an element of a row kernel (measured: the GPT's 48 heads of T = 64, D = 32 gain
    from a second thread, makemore's 128 heads of T = 16, D = 16, 8x less work, lose)."""
    return q.size * q.shape[-2] // 8


def _float32(op, *arrays):
    if any(a.dtype != np.float32 for a in arrays):
        raise ValueError(f"{op}: the Numba kernel takes float32 arrays, got {sorted({str(a.dtype) for a in arrays})}")


def attention_heads_forward_(q, k, v, scale, causal, out, p):
    """out <- softmax(scale q k^T (causal)) v and p <- the softmax, for q, k, v (B, H, T, D); returns (out, p)."""
    check_attention_heads_forward("attention_heads_forward_", q, k, v, out, p)
    _float32("attention_heads_forward_", q, k, v, out, p)
    threads = use_threads_for(_work(q))
    with _writable((out, p)) as (out_w, p_w):
        _forward(_readable(q), _readable(k), _readable(v), float(scale), bool(causal), out_w, p_w, threads)
    return out, p


def attention_heads_backward_(q, k, v, p, dout, scale, causal, dq, dk, dv):
    """dq, dk, dv <- the gradients of attention_heads_forward_'s out given dout = dL/dout and its p;
    returns (dq, dk, dv)."""
    check_attention_heads_backward("attention_heads_backward_", q, k, v, p, dout, dq, dk, dv)
    _float32("attention_heads_backward_", q, k, v, p, dout, dq, dk, dv)
    threads = use_threads_for(_work(q))
    with _writable((dq, dk, dv)) as (dq_w, dk_w, dv_w):
        _backward(*map(_readable, (q, k, v, p, dout)), float(scale), bool(causal), dq_w, dk_w, dv_w, threads)
    return dq, dk, dv
