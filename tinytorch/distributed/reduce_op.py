"""`ReduceOp`: how all_reduce and reduce_scatter combine the ranks' tensors (torch's values).

AVG is the SUM divided by the world size, for floating-point tensors (torch offers it on NCCL
only; here every backend has it, so build-nanogpt's `all_reduce(loss, op=ReduceOp.AVG)` runs on
CPUs too).
"""
import enum


class ReduceOp(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4

    def __repr__(self):
        return f"<RedOpType.{self.name}: {self.value}>"

    def __str__(self):
        return f"RedOpType.{self.name}"
