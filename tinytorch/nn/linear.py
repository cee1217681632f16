"""`Linear` (y = x W^T + b) and `Identity`."""

from ..creation import empty
from . import functional as F, init
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """y = x @ weight.T + bias, with weight (out_features, in_features) and bias (out_features,).

    Initialised as torch does: kaiming_uniform_(a=sqrt(5)), which is U(-1/sqrt(in), 1/sqrt(in)),
    for the weight, and the same bound for the bias.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init._default_init_(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments (as torch does)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input
