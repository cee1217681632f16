"""Warp shuffles for Numba's CUDA simulator, which has none.

`NUMBA_ENABLE_CUDASIM=1` runs each CUDA thread of a block as a Python thread, but its fake
`cuda` module lacks `shfl_xor_sync`. This adds it with the GPU's semantics for full warps:
every lane posts its value, the block meets at a barrier, each lane reads its partner's
(lane ^ lane_mask) post, and a second barrier frees the slots. The simulator's barrier waits
for every live thread of the block, so the kernels call shuffles in warp-uniform control
flow, and a warp that is done returns (exited threads no longer count).
"""
import threading


def _shfl_xor_sync(fake_cuda_module, mask, value, lane_mask):
    thread = threading.current_thread()
    slots = thread._manager.__dict__.setdefault("warp_shuffle_slots", {})
    slots[thread.thread_id] = value
    thread.syncthreads()
    partner_value = slots[thread.thread_id ^ lane_mask]
    thread.syncthreads()
    return partner_value


def install_warp_shuffles():
    """Give the simulator's fake cuda module `shfl_xor_sync` (idempotent)."""
    from numba.cuda.simulator.kernelapi import FakeCUDAModule

    if not hasattr(FakeCUDAModule, "shfl_xor_sync"):
        FakeCUDAModule.shfl_xor_sync = _shfl_xor_sync
