"""NumPy's floating-point warnings, off where torch has none.

torch computes log(0) = -inf, sqrt(-1) = nan, 0/0 = nan and exp(1000) = inf without a word;
NumPy does the same arithmetic but prints "RuntimeWarning: divide by zero encountered in log".
`quiet(f)` is f run with those warnings off (np.errstate), for the functions whose finite inputs
can give inf or nan. It costs about half a microsecond a call, so the hottest ops (add, sub, mul,
whose warnings need inputs already infinite or values near the float's limit) go without it.
"""
import numpy as np


def quiet(fn):
    """fn with NumPy's divide, overflow, underflow and invalid-value warnings off."""
    return np.errstate(all="ignore")(fn)
