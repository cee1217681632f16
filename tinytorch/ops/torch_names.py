"""torch's names for the graph nodes of tinytorch's Functions (`grad_fn=<MulBackward0>`) and for
tensor types (`tinytorch.FloatTensor`).

A node is named after its Function, as torch names the node of the same op: `Mul` -> MulBackward0,
or a renamed op (`Copy` is torch's clone: CloneBackward0), or by a rule where torch has several ops
for one of tinytorch's (indexing: SelectBackward0, SliceBackward0, IndexBackward0, ...; a sum over
everything, SumBackward0, over dims, SumBackward1). The rules read only what a node keeps after
backward has freed its arrays.
"""
import numbers

from ..namespace import package_name

_RENAMED = {"Copy": "Clone", "Cast": "ToCopy", "LayerNorm": "NativeLayerNorm", "BatchNorm": "NativeBatchNorm",
            "GELU": "Gelu", "SiLU": "Silu", "MSELoss": "MseLoss", "NLLLoss": "NllLoss", "CrossEntropy": "NllLoss",
            "LogSumExp": "Logsumexp", "CumSum": "Cumsum", "Dropout": "Mul", "AsStrided": "AsStrided"}


def _get_item(ctx):
    """torch applies a basic key item by item; its node is that of the last item that does something."""
    key = ctx.__dict__.get("key")
    if key is None or any(not (k is None or k is Ellipsis or isinstance(k, (int, slice))) for k in key):
        return "Index"  # advanced keys hold arrays, freed after backward
    for k in reversed(key):
        if k is None:
            return "Unsqueeze"
        if isinstance(k, int):
            return "Select"
        if isinstance(k, slice) and k != slice(None):
            return "Slice"
    return "Alias"


def _reduction(ctx):
    return ctx.fn.__name__ + ("" if ctx.__dict__.get("axis") is None else "1")


def _matmul(ctx):
    ndims = ctx.__dict__.get("ndims", (2, 2))
    return {(1, 1): "Dot", (2, 2): "Mm", (2, 1): "Mv", (1, 2): "Squeeze4"}.get(ndims, "UnsafeView")


def _linear(ctx):
    with_bias = ctx.inputs[2] is not None
    if len(ctx.__dict__.get("x_shape", (0, 0))) == 2:
        return "Addmm" if with_bias else "Mm"
    return "View" if with_bias else "UnsafeView"


def _scalar_first(ctx):
    return not hasattr(ctx.inputs[0], "_data")


def _sub(ctx):
    return "Rsub1" if _scalar_first(ctx) else "Sub"


def _div(ctx):
    return "Mul" if _scalar_first(ctx) else "Div"  # torch divides a number by x as reciprocal(x) * number


def _pow(ctx):
    if _scalar_first(ctx):
        return "Pow2"
    return "Pow1" if hasattr(ctx.inputs[1], "_data") else "Pow"


def _clamp(ctx):
    bounds = [ctx.__dict__.get(k, ctx) for k in ("lo", "hi")]  # a freed bound was an array
    return "Clamp" if any(b is not None and not isinstance(b, numbers.Number) for b in bounds) else "Clamp1"


def _by_op(ctx):
    return ctx.__dict__.get("op", ctx.fn.__name__)


def _max(ctx, suffix):
    return ("Max" if ctx.__dict__.get("is_max", True) else "Min") + suffix


_RULES = {"GetItem": _get_item, "Sum": _reduction, "Mean": _reduction, "MatMul": _matmul, "Linear": _linear,
          "Sub": _sub, "Div": _div, "Pow": _pow, "Clamp": _clamp, "Reshape": _by_op, "Transpose": _by_op,
          "Split": _by_op, "Where": _by_op, "TakeAlong": _by_op, "MaxAll": lambda ctx: _max(ctx, "1"),
          "MaxDim": lambda ctx: _max(ctx, ""), "Tri": lambda ctx: "Tril" if ctx.__dict__.get("lower", True) else "Triu"}
_OWN_NAMES = {"CopySlices"}  # nodes torch does not call <Op>Backward<n>


def node_name(ctx):
    """The name torch gives the node of the same op as tinytorch's node `ctx` (`MulBackward0`)."""
    name = ctx.fn.__name__
    if name in _OWN_NAMES:
        return name
    rule = _RULES.get(name)
    return _numbered(rule(ctx) if rule else _RENAMED.get(name, name))


def _numbered(name):
    """'Sum1' -> 'SumBackward1', 'Mul' -> 'MulBackward0'."""
    digits = len(name) - len(name.rstrip("0123456789"))
    return f"{name[:-digits]}Backward{name[-digits:]}" if digits else f"{name}Backward0"


_LEGACY_TYPES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def dtype_name_of_type_name(type_name):
    """The dtype name of a legacy type name ('torch.LongTensor' -> 'int64')."""
    kind = type_name.rsplit(".", 1)[-1]
    for dtype_name, legacy in _LEGACY_TYPES.items():
        if legacy == kind:
            return dtype_name
    raise ValueError(f"invalid type: {type_name!r} (expected a name like 'torch.FloatTensor' or 'torch.LongTensor')")


def legacy_type_name(array):
    """torch's legacy type name of a tensor with this array (`tinytorch.FloatTensor`,
    `tinytorch.cuda.LongTensor`), as torch's error messages name tensors."""
    kind = _LEGACY_TYPES.get(str(array.dtype), f"{array.dtype}Tensor")
    where = package_name() if type(array).__module__.startswith("numpy") else f"{package_name()}.cuda"
    return f"{where}.{kind}"
