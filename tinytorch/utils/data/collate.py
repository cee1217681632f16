"""Merging a list of samples into a batch: `default_collate` (and `default_convert` for unbatched loading)."""
import collections.abc

import numpy as np

from ... import creation, dtypes, functions
from ...tensor import Tensor


def default_collate(batch):
    """Stack a list of samples into a batch, keeping the samples' structure.

    Tensors (B x shape) -> stacked Tensor; NumPy arrays -> Tensor of their dtype; Python floats
    -> float64, ints -> int64, bools -> bool; strings stay a list; dicts, tuples and lists are
    collated field by field (tuples and lists come back as lists, namedtuples as namedtuples).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        _check_equal_shapes([b.shape for b in batch])
        return functions.stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSU":
            raise TypeError(f"default_collate: NumPy arrays of dtype {elem.dtype} cannot become tensors")
        _check_equal_shapes([b.shape for b in batch])
        return creation.from_numpy(np.stack(batch))
    if isinstance(elem, np.generic):
        return creation.from_numpy(np.array(batch))
    if isinstance(elem, float):
        return creation.tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):
        return creation.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return _same_type(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, collections.abc.Sequence):
        lengths = {len(b) for b in batch}
        if len(lengths) != 1:
            raise RuntimeError(f"default_collate: each element in the batch should be of equal size, got sizes {sorted(lengths)}")
        fields = [default_collate(list(samples)) for samples in zip(*batch)]
        return type(elem)(*fields) if hasattr(elem, "_fields") else fields
    raise TypeError("default_collate: a batch must contain tensors, NumPy arrays, numbers, strings, dicts or lists; "
                    f"found {type(elem).__name__}")


def default_convert(sample):
    """What an unbatched loader (batch_size=None) yields: NumPy arrays become tensors, inside
    dicts, tuples and lists too; everything else is returned as is."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind not in "OSU":
        return creation.from_numpy(sample)
    if isinstance(sample, collections.abc.Mapping):
        return _same_type(sample, {key: default_convert(v) for key, v in sample.items()})
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, (tuple, list)):
        return type(sample)(default_convert(v) for v in sample)
    return sample


def _check_equal_shapes(shapes):
    for i, shape in enumerate(shapes):
        if tuple(shape) != tuple(shapes[0]):
            raise RuntimeError(f"default_collate: stack expects each sample to be of equal size, but got "
                               f"{tuple(shapes[0])} at entry 0 and {tuple(shape)} at entry {i}")


def _same_type(mapping, as_dict):
    try:
        return type(mapping)(as_dict)
    except TypeError:
        return as_dict
