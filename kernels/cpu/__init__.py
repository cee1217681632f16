"""CPU kernels written with Numba: matmul, softmax, layernorm and GELU, forward and backward.

Entry points take the same arguments as the oracles in kernels.reference and pick the
fastest version; the numbered versions (`matmul_v1`, `softmax_forward_v2`, ...) stay
callable. Nothing compiles at import: each kernel compiles on its first call (about a
second) and is cached on disk (`cache=True`) for the next process.

The package imports the kernels that have numbered versions; the others load as their modules:
adam (Adam's in-place update), sgd (SGD's in-place step, rounded as torch's), lstm (an LSTM layer's
time loop and its steps, forward and backward, in place), embedding (the embedding backward's
scatter-add), attention_softmax (attention's in-place scaled, masked softmax), attention (whole
heads of self-attention, forward and backward, on the explicit 16-float vectors of vectors.py),
cross_entropy (softmax cross-entropy against class indices), gelu's gelu_backward_and_forward_,
normal (torch's float32 Box-Muller), mt19937 (torch's Mersenne Twister and bernoulli_'s mask),
dropout (dropout's product by its mask), im2col (a convolution's windows as rows and back),
max_pool (max pooling and its gradient), mkl_matmul (Intel MKL's gemm) and blas_call (a gemm called
from inside a Numba loop). tinytorch.backends picks among them and their NumPy twins in
kernels/numpy; threads.py decides how many threads each call runs on.
"""
from .target import prefer_512_bit_vectors

prefer_512_bit_vectors()  # before anything below is compiled

from .gelu import gelu_backward, gelu_backward_v1, gelu_backward_v2, gelu_forward, gelu_forward_v1, gelu_forward_v2  # noqa: E402
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
    "gelu_forward": (gelu_forward_v1, gelu_forward_v2),
    "gelu_backward": (gelu_backward_v1, gelu_backward_v2),
}
