"""Float32 matmul precision and the TF32 flags, as torch's: `tinytorch.set_float32_matmul_precision`,
`get_float32_matmul_precision`, `tinytorch.backends.cuda.matmul.allow_tf32` and
`tinytorch.backends.cudnn.allow_tf32`.

    precision   float32 matmuls on a GPU             allow_tf32 reads
    "highest"   full float32 (the default)           False
    "high"      TF32 tensor cores (10-bit mantissa)  True
    "medium"    TF32 too (torch may use bfloat16)    True

Setting `backends.cuda.matmul.allow_tf32` sets the precision ("high" for True, "highest" for False),
as torch's legacy flag does (torch 2.13 raises when that flag and its newer per-backend
`fp32_precision` settings are mixed; tinytorch has only these). `backends.cudnn.allow_tf32`
(default True) is kept for convolutions on cuDNN, which tinytorch does not call. The CPU computes
float32 products in float32 whatever the setting, as torch's CPU does.
"""
PRECISIONS = ("highest", "high", "medium")
_precision = "highest"
_applied = None  # the precision the CuPy matmul path was last given


def set_float32_matmul_precision(precision):
    global _precision
    if precision not in PRECISIONS:
        raise RuntimeError(f"set_float32_matmul_precision: invalid precision {precision!r} (highest, high or medium)")
    _precision = precision


def get_float32_matmul_precision():
    return _precision


class CudaMatmulFlags:
    """`backends.cuda.matmul`: allow_tf32 reads and sets the float32 matmul precision."""

    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self):
        return _precision != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value):
        set_float32_matmul_precision("high" if value else "highest")


class CudaFlags:
    """`backends.cuda`."""

    def __init__(self):
        self.matmul = CudaMatmulFlags()


class CudnnFlags:
    """`backends.cudnn`: settable flags with torch's defaults (tinytorch does not use cuDNN)."""

    def __init__(self):
        self.enabled = True
        self.benchmark = False
        self.deterministic = False
        self.allow_tf32 = True

    @staticmethod
    def is_available():
        return False


def apply_to_cupy(cupy):
    """Give CuPy's float32 matmuls the current precision, when it changed since the last call: TF32
    compute (CuPy's COMPUTE_TYPE_TF32) for "high" and "medium", CuPy's default otherwise (which the
    CUPY_TF32=1 environment variable also turns to TF32). Called on the CuPy matmul path before each
    product.
    Written against CuPy's `cupy._core._routines_linalg.set_compute_type`; it has not run here (no GPU
    on the machine where it was written), so it is untested."""
    global _applied
    if _applied == _precision:
        return
    linalg = cupy._core._routines_linalg
    tf32 = _precision != "highest"
    linalg.set_compute_type(cupy.float32, linalg.COMPUTE_TYPE_TF32 if tf32 else linalg.COMPUTE_TYPE_DEFAULT)
    _applied = _precision
