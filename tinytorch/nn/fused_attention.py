"""Fused scaled dot-product attention, one Function, next to its naive twin (lecture 7's head)."""
import functools
import math

import numpy as np

from .. import backends
from ..autograd import Function
from ..device import array_module
from ..dtypes import bool_
from ..kernels.numpy.arrays import exp_rows, one_block, row_blocks
from ..ops.errors import shapes_error
from ..ops.movement import empty_in_memory_order, memory_order, place_in_base, same_view_in
from .fused_activation import softmax_naive


@functools.lru_cache(maxsize=32)
def causal_mask(n_queries, n_keys, xp):
    """Lower-triangular (L, S) bool mask, query i sees keys j <= i (torch's tril(diagonal=0)).

    Cached per (L, S, array module), i.e. per device: a training loop asks for the same one
    every step. Read-only, since every caller shares it.
    """
    mask = xp.tril(xp.ones((n_queries, n_keys), dtype=bool))
    if xp.__name__ == "numpy":
        mask.flags.writeable = False
    return mask


def _heads(a, batch, lead):
    """a (..., n, e) broadcast to the batch dims and seen as lead + (n, e) (a view if it can be)."""
    if a.shape[:-2] != batch:
        a = array_module(a).broadcast_to(a, batch + a.shape[-2:])
    return a.reshape(lead + a.shape[-2:])


_QUERY_BLOCK = 128


def query_blocks(n_queries, n_keys, causal, xp=np):
    """(q0, q1, k1): query rows q0:q1 and the keys :k1 they can see.

    Causal attention on the CPU in blocks of _QUERY_BLOCK queries: query i sees keys j <= i
    only, so a block needs the keys up to its last query; the scores beyond are masked (zero
    weight), so skipping them is exact and saves almost half of the work at long sequences.
    On the GPU one block: each extra block costs a dozen launches and strided copies, more
    than the masked half of the products it skips.
    """
    if not causal or xp is not np or n_queries < 2 * _QUERY_BLOCK:
        return [(0, n_queries, n_keys)]
    return [(q0, min(q0 + _QUERY_BLOCK, n_queries), min(q0 + _QUERY_BLOCK, n_keys))
            for q0 in range(0, n_queries, _QUERY_BLOCK)]


class ScaledDotProductAttention(Function):
    """out = dropout(softmax(q k^T * scale + bias)) v for q (..., L, E), k (..., S, E), v (..., S, Ev).

    `bias` is the mask as an additive array broadcastable to (..., L, S): 0 where a query may
    attend, -inf where not (from a bool or causal mask), or a float mask itself. A query that
    may attend to nothing gets zero weights (as torch does). With P = softmax(S),
    D = P * keep / (1 - p_drop) the dropped weights (keep drawn as torch's CPU math path draws it:
    bernoulli(1 - p_drop) over the (..., L, S) scores in row-major order) and G = dL/dout:

        dv = D^T G,   dD = G v^T,   dP = dD * keep / (1 - p_drop),
        dS = P * (dP - sum_j dP_j P_j)             (the softmax backward, per query row),
        dq = dS k * scale,   dk = dS^T q * scale,   d(float mask) = dS.

    `in_place`, when no mask but the causal one is given and the queries form one block, runs the
    kernels attention_softmax_forward_ and attention_softmax_backward_, which scale, mask and
    normalize the score rows in place (one pass each way with the Numba kernels); otherwise the
    bias is added and the xp code here normalizes.

    On the CPU in float32 under the `in_place` conditions, with q, k, v of one shape, the Numba kernels
    attention_heads_forward_ and attention_heads_backward_ do it all instead, a whole head each, in
    parallel over the heads (uses_whole_head_kernels).

    Only P is kept (q, k and v are the inputs). When all the scores fit in cache at once, the
    batched products run on q, k, v as they are (views into a fused qkv projection, say);
    otherwise the batch dims are flattened into heads, processed a few at a time, so that each
    (L, S) score block stays in cache through the mask, softmax and dropout passes. With
    `causal`, each block of queries skips the keys it cannot see (see query_blocks).
    """

    @staticmethod
    def forward(ctx, q, k, v, bias, dropout_p, scale, causal, generator, in_place):
        ctx.flash = uses_flash_attention(q, k, v, dropout_p, in_place)
        if ctx.flash:
            return _flash_forward(ctx, q, k, v, scale, causal)
        ctx.whole_heads = uses_whole_head_kernels(q, k, v, dropout_p, in_place, causal)
        if ctx.whole_heads:
            return _whole_heads_forward(ctx, q, k, v, scale, causal)
        xp = array_module(q)
        n_q, n_k = q.shape[-2], k.shape[-2]
        batch = tuple(np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2],
                                          () if bias is None else bias.shape[:-2]))
        n_heads = math.prod(batch)
        lead = (batch or (1,)) if one_block(n_heads * n_q * n_k, xp) else (n_heads,)
        qh, kh, vh = (_heads(a, batch, lead) for a in (q, k, v))
        bias_h = None if bias is None else _heads(bias, batch, lead)
        blocks = query_blocks(n_q, n_k, causal, xp)
        in_place = in_place and len(blocks) == 1
        p = xp.empty(lead + (n_q, n_k), q.dtype)  # a causal query block writes (and reads) keys :k1 only
        # laid out like q (heads of a fused (B, T, 3, H, E) projection, say): the caller's
        # transpose back to (B, T, H, E) is then contiguous and merging the heads needs no copy
        out = empty_in_memory_order(lead + (n_q, vh.shape[-1]), memory_order(qh), q.dtype, xp)
        keep = generator.bernoulli(p.shape, 1 - dropout_p, bool) if dropout_p > 0 else None  # torch's mask
        drop_scale = 1.0 / (1.0 - dropout_p) if dropout_p < 1 else 0.0
        with backends.parallel_products(n_q * n_k * q.shape[-1]):  # each head's products, on every thread if large
            for heads, (scores, dropped) in row_blocks(lead[0], p.shape[1:], xp, q.dtype, 2):
                k_t = _transposed(kh[heads])                 # once per block of heads; query blocks take :k1
                for q0, q1, k1 in blocks:
                    block = (Ellipsis, slice(q0, q1), slice(0, k1))
                    s, weights = scores[..., :q1 - q0, :k1], p[heads][block]
                    if in_place:
                        xp.matmul(qh[heads], k_t, out=weights)
                        backends.kernel("attention_softmax_forward_", weights)(weights, scale, causal)
                    else:
                        _softmax_scores(qh[heads][..., q0:q1, :], k_t[..., :k1], s, weights, scale,
                                        None if bias_h is None else bias_h[heads][block])
                    if keep is not None:
                        weights = _dropped(weights, keep[heads][block], drop_scale, dropped[..., :q1 - q0, :k1])
                    xp.matmul(weights, vh[heads][..., :k1, :], out=out[heads][..., q0:q1, :])
        ctx.q, ctx.k, ctx.v, ctx.p, ctx.keep, ctx.batch, ctx.blocks = qh, kh, vh, p, keep, batch, blocks
        ctx.scale, ctx.drop_scale, ctx.in_place = scale, drop_scale, in_place
        return out.reshape(batch + out.shape[-2:])

    @staticmethod
    def backward(ctx, g):
        if ctx.flash:
            return _flash_backward(ctx, g)
        if ctx.whole_heads:
            return _whole_heads_backward(ctx, g)
        need_q, need_k, need_v, need_bias = ctx.needs_input_grad[:4]
        xp = array_module(g)
        q, k, v, p, keep, blocks = ctx.q, ctx.k, ctx.v, ctx.p, ctx.keep, ctx.blocks
        g = g.reshape(p.shape[:-2] + g.shape[-2:])
        # laid out like q, k, v (often views of one (B, T, 3, H, E) projection): the caller's transpose
        # back to (B, T, H, E) is then contiguous, and reshaping it needs no copy
        accumulated = xp.empty_like if len(blocks) == 1 else xp.zeros_like  # several query blocks add into dk, dv
        dq, dk, dv = _gradient_arrays((q, k, v), (need_q, need_k, need_v), accumulated)
        dbias = xp.zeros(p.shape, p.dtype) if need_bias else None
        with backends.parallel_products(p.shape[-2] * p.shape[-1] * q.shape[-1]):
            for heads, (ds_block, dropped) in row_blocks(p.shape[0], p.shape[1:], xp, p.dtype, 2):
                v_t = _transposed(v[heads]) if need_q or need_k or need_bias else None
                for q0, q1, k1 in blocks:
                    block = (Ellipsis, slice(q0, q1), slice(0, k1))
                    ph, gh, kh = p[heads][block], g[heads][..., q0:q1, :], k[heads][..., :k1, :]
                    if need_v:
                        weights = ph if keep is None else _dropped(ph, keep[heads][block], ctx.drop_scale,
                                                                   dropped[..., :q1 - q0, :k1])
                        _matmul_into(weights.swapaxes(-1, -2), gh, dv[heads][..., :k1, :], len(blocks) == 1)
                    if not (need_q or need_k or need_bias):
                        continue
                    ds = ds_block[..., :q1 - q0, :k1]
                    xp.matmul(gh, v_t[..., :k1], out=ds)                                  # dD
                    if keep is not None:
                        ds *= keep[heads][block]
                        ds *= ctx.drop_scale                                               # dP
                    if ctx.in_place:
                        backends.kernel("attention_softmax_backward_", ds)(ds, ph, ctx.scale)  # dS * scale
                    else:
                        ds -= xp.einsum("...ij,...ij->...i", ds, ph)[..., None]
                        ds *= ph                                                           # dS
                        if need_bias:
                            dbias[heads][block] = ds
                        ds *= ctx.scale
                    if need_q:
                        xp.matmul(ds, kh, out=dq[heads][..., q0:q1, :])
                    if need_k:
                        _matmul_into(ds.swapaxes(-1, -2), q[heads][..., q0:q1, :], dk[heads][..., :k1, :],
                                     len(blocks) == 1)
        batch = ctx.batch
        shaped = (lambda d: None if d is None else d.reshape(batch + d.shape[-2:]))
        return shaped(dq), shaped(dk), shaped(dv), shaped(dbias), None, None, None, None, None


# ---- the CPU's whole-head kernels: attention_heads_forward_ / attention_heads_backward_ -------------

def uses_whole_head_kernels(q, k, v, dropout_p, in_place, causal):
    """Whether ScaledDotProductAttention runs the Numba kernels that do a whole head each, in parallel
    over the heads (kernels/cpu/attention.py): float32 NumPy arrays under kernels="numba", no mask but
    the causal one (`in_place`), no dropout, q, k, v of one shape (B, H, T, D) or with fewer batch dims,
    and the queries in one block (query_blocks: the sequences the batched products above leave in one)."""
    if not isinstance(q, np.ndarray) or q.dtype != np.float32 or backends.kernels != "numba":
        return False
    if not in_place or dropout_p > 0 or not q.shape == k.shape == v.shape or q.ndim > 4:
        return False
    return len(query_blocks(q.shape[-2], q.shape[-2], causal)) == 1


def _four_dims(a):
    """a (..., T, D) with at most four dims as a (B, H, T, D) view."""
    return a[(None,) * (4 - a.ndim)]


def _whole_heads_forward(ctx, q, k, v, scale, causal):
    """out (laid out like q, as above) and P (kept for the backward) by the whole-head kernel."""
    out = empty_in_memory_order(q.shape, memory_order(q), q.dtype, np)
    p = np.empty(q.shape[:-1] + q.shape[-2:-1], q.dtype)
    backends.kernel("attention_heads_forward_", q)(*map(_four_dims, (q, k, v)), scale, causal,
                                                    _four_dims(out), _four_dims(p))
    ctx.q, ctx.k, ctx.v, ctx.p, ctx.scale, ctx.causal = q, k, v, p, scale, causal
    return out


def _whole_heads_backward(ctx, g):
    """dq, dk, dv by the whole-head kernel, laid out by _gradient_arrays (views of one array when q, k
    and v are views of one)."""
    grads = _gradient_arrays((ctx.q, ctx.k, ctx.v), (True, True, True), np.empty_like)
    backends.kernel("attention_heads_backward_", g)(*map(_four_dims, (ctx.q, ctx.k, ctx.v, ctx.p, g)), ctx.scale,
                                                    ctx.causal, *map(_four_dims, grads))
    dq, dk, dv = (d if need else None for d, need in zip(grads, ctx.needs_input_grad[:3]))
    return dq, dk, dv, None, None, None, None, None, None


# ---- the GPU's fused (flash) attention: the kernels attention_forward / attention_backward ----------

def uses_flash_attention(q, k, v, dropout_p, in_place):
    """Whether ScaledDotProductAttention runs the fused flash-attention kernels (kernels/cuda/attention.py):
    float32 arrays on the GPU under cuda_kernels="numba", no mask but the causal one (`in_place`), no
    dropout, and q, k, v of one shape (..., T, D) (no broadcast batch dims, self-attention) with D at most
    the kernels' MAX_HEAD_DIM. Never on the CPU (see uses_whole_head_kernels there)."""
    if isinstance(q, np.ndarray) or q.dtype != np.float32 or backends.cuda_kernels != "numba":
        return False
    if not in_place or dropout_p > 0 or not q.shape == k.shape == v.shape:
        return False
    from ..kernels.cuda.attention import MAX_HEAD_DIM  # loads Numba-CUDA: on the GPU only
    return q.shape[-1] <= MAX_HEAD_DIM


def _flash_forward(ctx, q, k, v, scale, causal):
    """out = softmax(scale q k^T (causal)) v by the fused kernel, which keeps no (T, T) array: the
    backward recomputes P from q, k and the log-sum-exp saved here (with out, for delta = rowsum(G out))."""
    out, lse = backends.kernel("attention_forward", q)(q, k, v, scale, causal)
    ctx.q, ctx.k, ctx.v, ctx.out, ctx.lse, ctx.scale, ctx.causal = q, k, v, out, lse, scale, causal
    return out


def _flash_backward(ctx, g):
    grads = backends.kernel("attention_backward", g)(ctx.q, ctx.k, ctx.v, ctx.out, ctx.lse, g, ctx.scale, ctx.causal)
    dq, dk, dv = (d if need else None for d, need in zip(grads, ctx.needs_input_grad[:3]))
    return dq, dk, dv, None, None, None, None, None, None


def _gradient_arrays(arrays, needs, make):
    """dq, dk, dv (None where not needed), each made by `make` (empty_like or zeros_like) in
    the layout of its input. When q, k and v are views of one NumPy array (the heads of a fused
    qkv projection), they are the same views of one new array shaped like it: the split that
    made the heads then hands that array back as its gradient without copying (ops/movement.Split)."""
    places = [place_in_base(a) for a in arrays]
    if all(places) and all(place[0] is places[0][0] for place in places):
        whole = make(places[0][0])
        return [same_view_in(whole, a, place[1]) if need else None for a, place, need in zip(arrays, places, needs)]
    return [make(a) if need else None for a, need in zip(arrays, needs)]


def _softmax_scores(q, k_t, s, weights, scale, bias):
    """weights = softmax(q k^T * scale + bias) over the keys (k_t = k^T), through the scores buffer s."""
    xp = array_module(q)
    xp.matmul(q, k_t, out=s)
    s *= scale
    if bias is not None:
        s += bias
    _, total = exp_rows(s, weights)
    total[total == 0] = 1                   # a query that sees no key: zero weights
    weights *= (1 / total)[..., None]


def _transposed(a):
    """a.swapaxes(-1, -2) as the right operand of a matmul: on the CPU a contiguous copy, because
    OpenBLAS multiplies by a transposed (E, S) operand much more slowly than by a plain one at
    attention's sizes (64x32 by 32x64: 0.20 ms vs 0.11 ms for 48 heads, the copy 0.03 ms)."""
    t = a.swapaxes(-1, -2)
    return np.ascontiguousarray(t) if isinstance(a, np.ndarray) else t


def _dropped(weights, keep, drop_scale, out):
    """weights * keep / (1 - p), into out."""
    xp = array_module(weights)
    xp.multiply(weights, keep, out=out)
    out *= drop_scale
    return out


def _matmul_into(a, b, out, overwrite):
    """out = a @ b (overwrite) or out += a @ b."""
    if overwrite:
        array_module(a).matmul(a, b, out=out)
    else:
        out += a @ b


def mask_as_bias(attn_mask, is_causal, n_queries, n_keys, dtype, xp):
    """A bool "may attend" mask (or the causal one, cached) as an additive array: 0 where
    attending is allowed, -inf where not; None without a mask."""
    if is_causal:
        return causal_bias(n_queries, n_keys, np.dtype(dtype), xp)
    if attn_mask is None:
        return None
    return xp.where(attn_mask, dtype.type(0), dtype.type(-np.inf))


@functools.lru_cache(maxsize=32)
def causal_bias(n_queries, n_keys, dtype, xp):
    """causal_mask as an additive (L, S) array of `dtype`, cached and read-only like it."""
    bias = xp.where(causal_mask(n_queries, n_keys, xp), dtype.type(0), dtype.type(-np.inf))
    if xp.__name__ == "numpy":
        bias.flags.writeable = False
    return bias


def repeat_kv_heads(query, key, value):
    """Grouped-query attention: repeat each of key's and value's H_kv heads (dim -3) H_q / H_kv
    times so they line up with query's heads (torch's enable_gqa)."""
    n_q, n_kv = query.shape[-3], key.shape[-3]
    if n_q % n_kv or value.shape[-3] != n_kv:
        raise shapes_error("scaled_dot_product_attention", query.shape, key.shape, value.shape,
                           why="do not allow enable_gqa: query heads must be a multiple of key/value heads")

    def repeat(t):
        grouped = t.unsqueeze(-3).expand(*t.shape[:-2], n_q // n_kv, *t.shape[-2:])
        return grouped.reshape(*t.shape[:-3], n_q, *t.shape[-2:])
    return repeat(key), repeat(value)


def scaled_dot_product_attention_naive(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                       scale=None, enable_gqa=False):
    """Lecture 7's attention head: wei = q @ k^T * scale, masked_fill(-inf), softmax, @ v."""
    if enable_gqa:
        key, value = repeat_kv_heads(query, key, value)
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    wei = query @ key.transpose(-2, -1) * scale
    n_queries, n_keys = query.shape[-2], key.shape[-2]
    if is_causal:
        attn_mask = query.new_ones(n_queries, n_keys, dtype=bool_).tril()
    if attn_mask is not None and attn_mask.dtype.name == "bool":
        wei = wei.masked_fill(attn_mask.logical_not(), float("-inf"))
        attends = attn_mask.any(-1, keepdim=True)
        wei = wei.masked_fill(attends.logical_not(), 0.0)
    elif attn_mask is not None:
        wei = wei + attn_mask
    wei = softmax_naive(wei, -1)
    if attn_mask is not None and attn_mask.dtype.name == "bool":
        wei = wei * attends
    if dropout_p > 0:
        wei = wei * wei.new_empty(wei.shape).bernoulli_(1 - dropout_p) / (1 - dropout_p)
    return wei @ value
