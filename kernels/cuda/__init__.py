"""GPU kernels written with Numba-CUDA: matmul, softmax, layernorm, GELU and fused (flash) attention,
forward and backward.

Entry points take the oracle's arguments (kernels.reference) plus an optional `block_size`,
and pick the fastest version; numbered versions (`matmul_v1`, ...) stay callable. They
take CuPy arrays (zero-copy through __cuda_array_interface__), or NumPy arrays under
NUMBA_ENABLE_CUDASIM=1, where each CUDA thread runs as a Python thread: slow, but it checks
the indexing, the barriers and the shuffles of the real kernel code on a machine with no GPU.
Kernels compile on first launch and are cached on disk.
"""
from numba import config

if config.ENABLE_CUDASIM:
    from .simulator import install_warp_shuffles
    install_warp_shuffles()

from .attention import (attention_backward, attention_backward_v1, attention_forward,  # noqa: E402
                        attention_forward_v1, attention_forward_v2)
from .gelu import gelu_backward, gelu_backward_v1, gelu_forward, gelu_forward_v1  # noqa: E402
from .layernorm import (layernorm_backward, layernorm_backward_v1, layernorm_backward_v2,  # noqa: E402
                        layernorm_forward, layernorm_forward_v1, layernorm_forward_v2)
from .matmul import matmul, matmul_v1, matmul_v2, matmul_v3  # noqa: E402
from .softmax import (softmax_backward, softmax_backward_v1, softmax_backward_v2, softmax_forward,  # noqa: E402
                      softmax_forward_v1, softmax_forward_v2, softmax_forward_v3)

VERSIONS = {
    "matmul": (matmul_v1, matmul_v2, matmul_v3),
    "softmax_forward": (softmax_forward_v1, softmax_forward_v2, softmax_forward_v3),
    "softmax_backward": (softmax_backward_v1, softmax_backward_v2),
    "layernorm_forward": (layernorm_forward_v1, layernorm_forward_v2),
    "layernorm_backward": (layernorm_backward_v1, layernorm_backward_v2),
    "gelu_forward": (gelu_forward_v1,),
    "gelu_backward": (gelu_backward_v1,),
}
