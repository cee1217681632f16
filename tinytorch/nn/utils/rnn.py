"""Variable-length sequences for the recurrent layers (torch.nn.utils.rnn): padding, packing and back.

A packed batch keeps only the real time steps of B sequences sorted longest first: step t holds
the first batch_sizes[t] of them, one row each, so `data` has sum(lengths) rows. The recurrent
layers run packed input step by step on those rows alone (nn/fused_rnn.py). Every conversion here
is one gather (indexing with an integer array), so gradients flow back through it.
"""
from typing import NamedTuple

import numpy as np

from ...creation import full, tensor
from ...dtypes import float32, float64, int64
from ...functions import cat
from ...tensor import Tensor


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor = None
    unsorted_indices: Tensor = None


class PackedSequence(_PackedSequenceFields):
    """(data (N, *), batch_sizes (T,) int64 on the CPU, sorted_indices, unsorted_indices): the packed
    rows, how many sequences each step holds, and the permutation that sorted the batch (None when
    it came sorted) with its inverse. Built by pack_padded_sequence or pack_sequence."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:  # PackedSequence((data, batch_sizes))
            data, batch_sizes = data
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """data moved or cast as Tensor.to does; the indices follow data's device, batch_sizes stays."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_indices, unsorted_indices = (None if i is None else i.to(data.device)
                                            for i in (self.sorted_indices, self.unsorted_indices))
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def double(self):
        return self.to(dtype=float64)

    def float(self):
        return self.to(dtype=float32)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def invert_permutation(permutation):
    """The permutation q with q[p[i]] = i (None for None)."""
    if permutation is None:
        return None
    order = permutation.numpy(force=True)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return tensor(inverse, dtype=permutation.dtype, device=permutation.device)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences (L_i, *) into one (T, B, *) tensor (B, T, * with batch_first), T the longest
    L_i, the missing steps filled with padding_value after each sequence ('right') or before it ('left')."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    lengths = np.array([s.shape[0] for s in sequences])
    longest, starts = lengths.max(), np.cumsum(lengths) - lengths
    first = sequences[0]
    pad_row = full((1,) + tuple(first.shape[1:]), padding_value, dtype=first.dtype, device=first.device)
    rows = cat(sequences + [pad_row])
    offset = np.arange(longest)[:, None] - (longest - lengths if padding_side == "left" else 0)  # (T, B)
    index = np.where((offset >= 0) & (offset < lengths), starts + offset, rows.shape[0] - 1)
    return rows[_index(index.T if batch_first else index, first)]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (B, T, * with batch_first) of sequences of the given lengths.
    Unless enforce_sorted, the batch is first sorted longest first (stably), and the permutation kept."""
    lengths = np.asarray(lengths.tolist() if isinstance(lengths, Tensor) else lengths, dtype=np.int64).reshape(-1)
    batch_dim = 0 if batch_first else 1
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = tensor(order, dtype=int64, device=input.device)
        input = input.index_select(batch_dim, sorted_indices)
    if lengths.size != input.shape[batch_dim]:
        raise ValueError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
                         f"(batch_size={input.shape[batch_dim]})")
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if np.any(np.diff(lengths) > 0):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                           "this requirement if you do not need ONNX exportability.")
    batch_sizes = (lengths[None, :] > np.arange(lengths[0])[:, None]).sum(axis=1)
    steps = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    members = np.concatenate([np.arange(b) for b in batch_sizes])
    index = (members, steps) if batch_first else (steps, members)
    data = input[tuple(_index(i, input) for i in index)]
    return PackedSequence(data, tensor(batch_sizes, dtype=int64), sorted_indices, invert_permutation(sorted_indices))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths (B,) int64), in the batch's
    original order; T is the longest length, or total_length."""
    data, batch_sizes = sequence.data, sequence.batch_sizes.numpy(force=True)
    longest = batch_sizes.size
    if total_length is not None:
        if total_length < longest:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {longest}")
        longest = total_length
    n_batch = int(batch_sizes[0])
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    index = np.full((longest, n_batch), data.shape[0], np.int64)
    for t, (start, size) in enumerate(zip(starts, batch_sizes)):
        index[t, :size] = start + np.arange(size)
    pad_row = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, pad_row])[_index(index, data)]
    if batch_first:
        padded = padded.transpose(0, 1)
    lengths = (batch_sizes[None, :] > np.arange(n_batch)[:, None]).sum(axis=1)
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices
        return padded.index_select(0 if batch_first else 1, order), tensor(lengths[order.numpy(force=True)])
    return padded, tensor(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """pack_padded_sequence(pad_sequence(sequences), their lengths)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (L_i, *) inside a padded batch."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences, lengths.tolist() if isinstance(lengths, Tensor)
                                           else lengths)]


def unpack_sequence(packed_sequences):
    """The list of sequences inside a PackedSequence, in the batch's original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def _index(array, like):
    """An int64 index tensor on `like`'s device."""
    return tensor(np.ascontiguousarray(array, dtype=np.int64), device=like.device)
