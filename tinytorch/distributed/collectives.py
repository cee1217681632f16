"""Collectives and point-to-point messages on tensors, as torch.distributed's.

Every function works in place on its tensors' memory and bumps their version counters (as any
in-place op does, versions.py), and returns a work handle with `async_op=True` (isend and irecv
always), else waits and returns None (recv: the sender's rank). Tensors must be contiguous, on
the device of the backend: CPU for "mpi" and "gloo", CUDA for "nccl".
"""
from ..device import array_module
from ..tensor import Tensor
from ..versions import bump
from .process_group import group_of
from .reduce_op import ReduceOp


def _array(tensor, what, backend):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: expected a tensor, got {type(tensor).__name__}")
    array = tensor._data
    if not array.flags.c_contiguous:
        raise RuntimeError(f"{what}: tensors must be contiguous")
    backend.check(array, what)
    return array


def _check_op(op, tensor, what):
    if not isinstance(op, ReduceOp):
        raise ValueError(f"{what}: op must be a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), got {op!r}")
    if op is ReduceOp.AVG and tensor._data.dtype.kind not in "fcV":
        raise RuntimeError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype}")


def _finish(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def _modified(*tensors):
    for t in tensors:
        bump(t._data)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """tensor <- the reduction (op) of every rank's tensor."""
    backend = group_of(group)
    array = _array(tensor, "all_reduce", backend)
    _check_op(op, tensor, "all_reduce")
    work = backend.all_reduce(array, op)
    _modified(tensor)
    return _finish(work, async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """tensor <- rank src's tensor."""
    backend = group_of(group)
    work = backend.broadcast(_array(tensor, "broadcast", backend), src)
    _modified(tensor)
    return _finish(work, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor <- every rank's input_tensor in rank order, concatenated along dim 0 or
    stacked (output shape (world_size * n, ...) or (world_size, n, ...))."""
    backend = group_of(group)
    out = _array(output_tensor, "all_gather_into_tensor", backend)
    array = _array(input_tensor, "all_gather_into_tensor", backend)
    _check_sizes("all_gather_into_tensor", out, array, backend.size)
    work = backend.all_gather(out, array)
    _modified(output_tensor)
    return _finish(work, async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] <- rank r's tensor."""
    backend = group_of(group)
    array = _array(tensor, "all_gather", backend)
    outs = _list_of(tensor_list, "all_gather", "tensor_list", tensor, backend)
    gathered = backend.zeros(backend.size * array.size, array.dtype)

    def scatter():
        for r, out in enumerate(outs):
            out[...] = gathered[r * array.size:(r + 1) * array.size].reshape(out.shape)

    work = backend.all_gather(gathered, array, scatter)
    _modified(*tensor_list)
    return _finish(work, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """output <- rank r's part (the r-th of world_size along dim 0) of the reduction of every rank's input."""
    backend = group_of(group)
    out = _array(output, "reduce_scatter_tensor", backend)
    array = _array(input, "reduce_scatter_tensor", backend)
    _check_op(op, output, "reduce_scatter_tensor")
    _check_sizes("reduce_scatter_tensor", array, out, backend.size)
    work = backend.reduce_scatter(out, array, op)
    _modified(output)
    return _finish(work, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """output <- the reduction of every rank's input_list[r], on rank r."""
    backend = group_of(group)
    out = _array(output, "reduce_scatter", backend)
    _check_op(op, output, "reduce_scatter")
    pieces = _list_of(input_list, "reduce_scatter", "input_list", output, backend)
    work = backend.reduce_scatter(out, array_module(out).concatenate([p.reshape(-1) for p in pieces]), op)
    _modified(output)
    return _finish(work, async_op)


def _check_sizes(what, whole, part, size):
    if whole.size != size * part.size or whole.dtype != part.dtype:
        raise RuntimeError(f"{what}: the whole tensor must have world_size ({size}) times the elements of the "
                           f"part and the same dtype, got {whole.size} {whole.dtype} and {part.size} {part.dtype}")


def _list_of(tensors, what, name, like, backend):
    if len(tensors) != backend.size:
        raise ValueError(f"{what}: {name} must hold world_size ({backend.size}) tensors, got {len(tensors)}")
    arrays = [_array(t, what, backend) for t in tensors]
    for a in arrays:
        if a.shape != like._data.shape or a.dtype != like._data.dtype:
            raise RuntimeError(f"{what}: every tensor of {name} must have the shape and dtype of the other "
                               f"argument, {tuple(like.shape)} {like.dtype}, got {a.shape} {a.dtype}")
    return arrays


def isend(tensor, dst, group=None, tag=0):
    backend = group_of(group)
    return backend.send(_array(tensor, "isend", backend), dst, tag)


def irecv(tensor, src=None, group=None, tag=0):
    backend = group_of(group)
    work = backend.recv(_array(tensor, "irecv", backend), src, tag)
    _modified(tensor)
    return work


def send(tensor, dst, group=None, tag=0):
    isend(tensor, dst, group, tag).wait()


def recv(tensor, src=None, group=None, tag=0):
    """Receive into tensor from rank src (any rank when None); returns the sender's rank."""
    work = irecv(tensor, src, group, tag)
    work.wait()
    return src if src is not None else work.source()


def barrier(group=None, async_op=False, device_ids=None):
    return _finish(group_of(group).barrier(), async_op)
