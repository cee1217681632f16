"""Key/value cache for incremental decoding: each layer keeps the keys and values of past positions.

Buffers are allocated once, (B, n_head, block_size, head_size) per layer for keys and for values;
`length` positions are filled. A forward pass over T new tokens writes their keys/values at
positions length .. length+T-1 in every layer, attends over positions 0 .. length+T-1, and then
`advance(T)` moves `length` on.
"""
import tinytorch


class LayerCache:
    def __init__(self, owner, shape, device):
        self.owner = owner
        self.k = tinytorch.zeros(*shape, device=device)
        self.v = tinytorch.zeros(*shape, device=device)

    def append(self, k, v):
        """Store k, v (B, nh, T, hs) after the cached positions; return all keys and values so far."""
        start = self.owner.length
        end = start + k.shape[2]
        self.k[:, :, start:end] = k
        self.v[:, :, start:end] = v
        return self.k[:, :, :end], self.v[:, :, :end]


class KVCache:
    def __init__(self, n_layer, batch_size, n_head, block_size, head_size, device="cpu"):
        shape = (batch_size, n_head, block_size, head_size)
        self.length = 0
        self.capacity = block_size
        self.layers = [LayerCache(self, shape, device) for _ in range(n_layer)]

    @classmethod
    def for_model(cls, model, batch_size, device):
        c = model.config
        return cls(c.n_layer, batch_size, c.n_head, c.block_size, c.n_embd // c.n_head, device)

    def clear(self):
        self.length = 0

    def advance(self, n):
        if self.length + n > self.capacity:
            raise ValueError(f"KVCache: {self.length} + {n} positions exceed its capacity {self.capacity}")
        self.length += n
