"""torch's names for the graph nodes of tinytorch's Functions (`grad_fn=<MulBackward0>`)."""


def backward_name(function_name):
    """The name torch gives the backward node of the op that tinytorch calls `function_name`."""
    return f"{function_name}Backward0"
