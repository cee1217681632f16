"""torch's CPU generator state as bytes: the 5056-byte ByteTensor of `torch.get_rng_state()`.

The layout is ATen's CPUGeneratorImplState (CPUGeneratorImpl.cpp), a C struct on a little-endian
64-bit machine, padding bytes zero:

    offset  type          field
         0  uint64        the seed given to manual_seed
         8  int32         left (draws until the next twist, plus one)
        12  int32         seeded (1)
        16  uint64        next (read position in the state)
        24  uint64[624]   the Mersenne Twister's words (each < 2^32)
      5016  double        normal_x (unused, 0)
      5024  double        normal_y: the cached double normal sample
      5032  double        normal_rho (unused, 0)
      5040  int32         normal_is_valid: whether normal_y is cached
      5048  float         the cached float normal sample
      5052  bool          whether it is cached
      5053  3 bytes of padding

The legacy 5048-byte layout (THGeneratorState, without the float sample) is also read.
"""
import struct

import numpy as np

from .mt19937 import N

SIZE = 5056
LEGACY_SIZE = 5048
_HEAD = struct.Struct("<QiiQ")
_WORDS_AT = _HEAD.size
_NORMAL = struct.Struct("<dddi")
_NORMAL_AT = _WORDS_AT + 8 * N
_FLOAT_NORMAL = struct.Struct("<f?")
_FLOAT_NORMAL_AT = LEGACY_SIZE


def pack(seed, left, next_, words, double_normal, float_normal):
    """The state as a uint8 array of SIZE bytes; a cached sample is a float, or None."""
    out = bytearray(SIZE)
    _HEAD.pack_into(out, 0, seed, left, 1, next_)
    out[_WORDS_AT:_NORMAL_AT] = words.astype("<u8").tobytes()
    _NORMAL.pack_into(out, _NORMAL_AT, 0.0, double_normal or 0.0, 0.0, double_normal is not None)
    _FLOAT_NORMAL.pack_into(out, _FLOAT_NORMAL_AT, float_normal or 0.0, float_normal is not None)
    return np.frombuffer(bytes(out), np.uint8).copy()


def unpack(state):
    """(seed, left, next, words (uint32), double normal or None, float normal or None) from the
    bytes of `pack` or of torch's get_rng_state (or the legacy layout)."""
    raw = np.asarray(state)
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size not in (SIZE, LEGACY_SIZE):
        raise RuntimeError(f"set_rng_state: expected a uint8 tensor of {LEGACY_SIZE} or {SIZE} bytes "
                           f"(torch's generator state), got {raw.dtype} of shape {tuple(raw.shape)}")
    data = raw.tobytes()
    seed, left, _, next_ = _HEAD.unpack_from(data, 0)
    words = np.frombuffer(data, "<u8", N, _WORDS_AT)
    if not 1 <= left <= N or next_ > N or (words >> 32).any():
        raise RuntimeError("set_rng_state: the input RNG state is invalid")
    _, normal_y, _, normal_valid = _NORMAL.unpack_from(data, _NORMAL_AT)
    float_normal = None
    if raw.size == SIZE:
        value, valid = _FLOAT_NORMAL.unpack_from(data, _FLOAT_NORMAL_AT)
        float_normal = value if valid else None
    return seed, left, next_, words.astype(np.uint32), normal_y if normal_valid else None, float_normal
