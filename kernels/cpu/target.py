"""How the CPU kernels are compiled: fast-math flags and the SIMD width LLVM may use.

FASTMATH lets LLVM reassociate sums (so reductions vectorize) and contract a*b+c into FMAs,
but keeps IEEE infinities and NaNs: masked attention feeds -inf into softmax, and a NaN
must come out as NaN.
"""
import llvmlite.binding as llvm
import numba

FASTMATH = {"reassoc", "contract", "arcp", "nsz", "afn"}


def prefer_512_bit_vectors():
    """Let LLVM vectorize with 512-bit registers on AVX-512 CPUs (clang's -mprefer-vector-width=512).

    LLVM's tuning for most Intel cores prefers 256-bit vectors, which caps a float32 FMA loop
    at half of what OpenBLAS reaches; the register-tiled matmul needs the full width. Numba
    reads this once, when it first compiles anything, and keys its on-disk cache by it. An
    explicit NUMBA_CPU_FEATURES (or a CPU without AVX-512) is left alone.
    """
    if numba.config.CPU_FEATURES is not None or numba.config.CPU_NAME is not None:
        return
    features = llvm.get_host_cpu_features()
    if features.get("avx512f"):
        numba.config.CPU_FEATURES = features.flatten() + ",-prefer-256-bit"
