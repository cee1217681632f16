"""`Parameter`: a Tensor that a Module registers as one of its learnable weights."""
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and shares storage with `data`.

    Assigning one to a Module attribute (`self.w = Parameter(tinytorch.randn(3, 3))`) registers
    it, so it appears in `parameters()` and `state_dict()`.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = Tensor(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor, got {type(data).__name__}")
        self._data = data._data
        self.grad = None
        self._ctx = None
        self._out_index = 0
        self.requires_grad = False
        self.requires_grad_(requires_grad)

    @staticmethod
    def _wrap(data, node=None, index=0):
        """What ops on parameters return: plain tensors, as in torch."""
        return Tensor._wrap(data, node, index)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
