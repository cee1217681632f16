"""tinytorch.nn.special: normal_cdf, the series behind the exact GELU, to the precision of its dtype."""
import math

import numpy as np
import pytest

from tinytorch.nn.special import normal_cdf


@pytest.mark.parametrize("dtype,rel", [(np.float64, 1e-13), (np.float32, 2e-5)])
def test_normal_cdf_is_accurate_to_the_dtype(dtype, rel):
    x = np.linspace(-12, 12, 20001).astype(dtype)
    expected = np.array([0.5 * math.erfc(-float(v) / math.sqrt(2)) for v in x])
    got = normal_cdf(x)
    assert got.dtype == dtype
    meaningful = expected > 1e-30
    assert np.max(np.abs(got[meaningful] / expected[meaningful] - 1)) < rel
    assert np.max(np.abs(got - expected)) < (1e-15 if dtype == np.float64 else 3e-7)
