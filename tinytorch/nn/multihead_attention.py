"""`MultiheadAttention`: torch's multi-head attention layer, on the fused attention.

    MultiHead(Q, K, V) = concat(head_1, ..., head_h) W_o + b_o,
    head_i = softmax(Q W_q,i (K W_k,i)^T / sqrt(d) + mask) V W_v,i,   d = embed_dim / num_heads.

Shapes (N batch, L queries, S keys, E embed_dim): query (L, N, E), key (S, N, kdim), value
(S, N, vdim), or batch first (N, L, E) with batch_first=True, or unbatched (L, E). Masks follow
torch: attn_mask (L, S) or (N * num_heads, L, S), key_padding_mask (N, S); a bool mask is True
where attending is NOT allowed, a float mask is added to the scores.

Without `need_weights` the heads go through F.scaled_dot_product_attention (one fused op with
a hand-derived backward); with it, the weights are formed explicitly (softmax(q k^T / sqrt(d) +
mask), then dropout), as torch does, and returned averaged over the heads (or per head).
Internally the heads are laid out (N, num_heads, L, d), as the fused attention and a fused qkv
projection like them; dropout draws its mask over that layout in the order torch does.
"""
import math

from .. import caller_warnings
from ..creation import empty, zeros
from ..functions import cat
from . import functional as F
from .init import constant_, xavier_normal_, xavier_uniform_
from .linear import Linear
from .module import Module
from .parameter import Parameter


class NonDynamicallyQuantizableLinear(Linear):
    """torch's name for the output projection's Linear (it prints under this name)."""


def canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool or float mask as a float one in `target_type` (True -> -inf, False -> 0), as torch's
    F._canonical_mask; warns, as torch does, when it and the other mask differ in dtype."""
    if mask is None:
        return None
    if mask.dtype.name != "bool" and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        caller_warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for "
                             "both instead.")
    if mask.is_floating_point():
        return mask
    return zeros(tuple(mask.shape), dtype=target_type, device=mask.device).masked_fill_(mask, float("-inf"))


def _dtype_or_none(t):
    return None if t is None else t.dtype


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched (3-D query), after torch's checks of the dims."""
    if query.dim() not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D "
                             "query tensor")
    batched = query.dim() == 3
    want = 3 if batched else 2
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.dim() != want or value.dim() != want:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {want}-D but found "
                             f"{key.dim()}-D and {value.dim()}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.dim() != want - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or {want - 1}-D but "
                             f"found {key_padding_mask.dim()}-D tensor instead")
    if attn_mask is not None and attn_mask.dim() not in (2, 3):
        raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                             f"{attn_mask.dim()}-D tensor instead")
    if not batched and attn_mask is not None and attn_mask.dim() == 3 \
            and tuple(attn_mask.shape) != (num_heads, query.shape[0], key.shape[0]):
        raise AssertionError(f"Expected `attn_mask` shape to be {(num_heads, query.shape[0], key.shape[0])} but got "
                             f"{tuple(attn_mask.shape)}")
    return batched


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, average_attn_weights=True, is_causal=False):
    """torch.nn.functional.multi_head_attention_forward: sequence-first query (L, N, E), key
    (S, N, kdim), value (S, N, vdim), or unbatched; returns (output (L, N, E), weights or None)."""
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if batched:  # batch first inside: (N, L, E), keeping `query is key is value` where it holds
        query, key, value = _transposed(query, key, value)
    else:
        query, key, value = _unsqueezed(query, key, value)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    n, tgt_len, embed_dim = query.shape
    src_len = key.shape[1]
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", _dtype_or_none(attn_mask), "attn_mask",
                                      query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the fused attention's own causal mask
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if (tuple(key.shape[:2]) != tuple(value.shape[:2])) if use_separate_proj_weight else key.shape != value.shape:
        raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")

    q, k, v = _projected_heads(query, key, value, num_heads, in_proj_weight, in_proj_bias, use_separate_proj_weight,
                               q_proj_weight, k_proj_weight, v_proj_weight)
    mask = _heads_mask(attn_mask, n, num_heads, tgt_len, src_len)
    if bias_k is not None and bias_v is not None:
        k = _cat_key(k, bias_k.reshape(1, num_heads, 1, head_dim).expand(n, -1, -1, -1))
        v = _cat_key(v, bias_v.reshape(1, num_heads, 1, head_dim).expand(n, -1, -1, -1))
        mask, key_padding_mask = _one_more_key(mask), _one_more_key(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be given, or neither")
    if add_zero_attn:
        k = _cat_key(k, k.new_zeros(n, num_heads, 1, head_dim))
        v = _cat_key(v, v.new_zeros(n, num_heads, 1, head_dim))
        mask, key_padding_mask = _one_more_key(mask), _one_more_key(key_padding_mask)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (n, k.shape[2]):
            raise AssertionError(f"Expected key_padded_mask of shape {(n, k.shape[2])}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        padding = key_padding_mask.reshape(n, 1, 1, k.shape[2])
        mask = padding if mask is None else mask + padding
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
        weights = F.softmax(scores if mask is None else scores + mask, dim=-1)
        if dropout_p > 0.0:
            weights = F.dropout(weights, p=dropout_p)
        heads = weights @ v
    else:
        weights = None
        heads = F.scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)
    # laid out (L, N, E) as torch's: dropout after this layer draws its mask in memory order
    out = F.linear(heads.permute(2, 0, 1, 3).reshape(tgt_len * n, embed_dim), out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, n, embed_dim)
    if weights is not None and average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        return out.squeeze(1), None if weights is None else weights.squeeze(0)
    return out, weights


def _unsqueezed(query, key, value):
    """Unbatched (L, E) inputs as a batch of one, (1, L, E), keeping `is` between them."""
    q = query.unsqueeze(0)
    k = q if key is query else key.unsqueeze(0)
    v = k if value is key else q if value is query else value.unsqueeze(0)
    return q, k, v


def _split_heads(x, num_heads):
    """(N, L, E) -> (N, num_heads, L, E / num_heads)."""
    return x.unflatten(-1, (num_heads, -1)).transpose(1, 2)


def _projected_heads(query, key, value, num_heads, w, b, separate, w_q, w_k, w_v):
    """q, k, v projected and split into heads. Self-attention with the packed weight is one
    linear whose (N, L, 3, heads, d) output the three views share; key is value: two linears."""
    if separate:
        b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
        return tuple(_split_heads(F.linear(x, wx, bx), num_heads)
                     for x, wx, bx in ((query, w_q, b_q), (key, w_k, b_k), (value, w_v, b_v)))
    e = query.shape[-1]
    if key is value and query is key:
        proj = F.linear(query, w, b).unflatten(-1, (3, num_heads, -1))
        return tuple(proj.permute(2, 0, 3, 1, 4).unbind(0))
    if key is value:
        w_q, w_kv = w.split([e, 2 * e])
        b_q, b_kv = (None, None) if b is None else b.split([e, 2 * e])
        kv = F.linear(key, w_kv, b_kv).unflatten(-1, (2, num_heads, -1)).permute(2, 0, 3, 1, 4)
        return (_split_heads(F.linear(query, w_q, b_q), num_heads), *kv.unbind(0))
    ws, bs = w.chunk(3), (None, None, None) if b is None else b.chunk(3)
    return tuple(_split_heads(F.linear(x, wx, bx), num_heads) for x, wx, bx in zip((query, key, value), ws, bs))


def _heads_mask(attn_mask, n, num_heads, tgt_len, src_len):
    """attn_mask (L, S) or (N * num_heads, L, S) as (1, 1, L, S) or (N, num_heads, L, S)."""
    if attn_mask is None:
        return None
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                               f"{(tgt_len, src_len)}.")
        return attn_mask.reshape(1, 1, tgt_len, src_len)
    if tuple(attn_mask.shape) != (n * num_heads, tgt_len, src_len):
        raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                           f"{(n * num_heads, tgt_len, src_len)}.")
    return attn_mask.reshape(n, num_heads, tgt_len, src_len)


def _cat_key(x, extra):
    """One more key position: x (N, heads, S, d) and extra (N, heads, 1, d) joined along S."""
    return cat([x, extra], dim=2)


def _one_more_key(mask):
    """A mask with a zero (attend) column for the added key position (torch's pad(mask, (0, 1)))."""
    if mask is None:
        return None
    return cat([mask, mask.new_zeros(*mask.shape[:-1], 1)], dim=-1)


class MultiheadAttention(Module):
    """torch.nn.MultiheadAttention: parameters in_proj_weight (3E, E) and in_proj_bias (3E,), or
    q_proj_weight, k_proj_weight, v_proj_weight when kdim or vdim differ from E; out_proj a
    Linear(E, E); bias_k, bias_v (1, 1, E) with add_bias_kv. Initialised as torch: out_proj as a
    Linear, then xavier_uniform_ for the input projections, zeros for both biases, and
    xavier_normal_ for bias_k and bias_v."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **factory))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", Parameter(empty(3 * embed_dim, **factory)) if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            xavier_uniform_(self.in_proj_weight)
        else:
            xavier_uniform_(self.q_proj_weight)
            xavier_uniform_(self.k_proj_weight)
            xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            constant_(self.in_proj_bias, 0.0)
            constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """(attn_output, attn_output_weights or None); see the module's docstring for shapes."""
        key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", _dtype_or_none(attn_mask),
                                          "attn_mask", query.dtype)
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        batch_first = self.batch_first and query.dim() == 3
        if batch_first:  # to torch's sequence-first convention, keeping `is` between the inputs
            query, key, value = _transposed(query, key, value)
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        return (out.transpose(0, 1) if batch_first else out), weights


def _transposed(query, key, value):
    """(x.transpose(0, 1) for each), one transpose per distinct tensor, so `is` still holds."""
    q = query.transpose(0, 1)
    k = q if key is query else key.transpose(0, 1)
    v = k if value is key else q if value is query else value.transpose(0, 1)
    return q, k, v
