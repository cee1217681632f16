"""Errors raised by ops: they name the op and the shapes, devices or dtypes involved."""


class ShapeError(RuntimeError, ValueError):
    """Incompatible shapes. A RuntimeError like torch's, and a ValueError for NumPy-minded code."""


class DeviceError(RuntimeError):
    """Operands on different devices."""


def shapes_error(op, *shapes, why="are incompatible"):
    listed = " and ".join(str(tuple(s)) for s in shapes)
    return ShapeError(f"{op}: shapes {listed} {why}")


def devices_error(op, *devices):
    listed = " and ".join(str(d) for d in devices)
    return DeviceError(f"{op}: Expected all tensors to be on the same device, but found at least two devices, {listed}!")
