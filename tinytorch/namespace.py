"""The package name in what tinytorch prints (`tinytorch.float32`, `tinytorch.Size([2, 3])`,
`tinytorch.FloatTensor`): `tinytorch`, or `torch` once `compat.install()` has made `import torch`
give tinytorch, so that an unmodified PyTorch script prints what it prints under torch."""
_name = "tinytorch"


def package_name():
    return _name


def print_as(name):
    """Print names under package `name` from now on ("torch" or "tinytorch")."""
    global _name
    if name not in ("torch", "tinytorch"):
        raise ValueError(f"print_as: name must be 'torch' or 'tinytorch', got {name!r}")
    _name = name
