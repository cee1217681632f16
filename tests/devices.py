"""The devices a device-parametrized test runs on: "cpu" always, "cuda" (marked `gpu`) only
where CuPy sees a GPU; `make test` without a GPU skips the cuda cases cleanly."""
import pytest

import tinytorch

HAS_GPU = tinytorch.cuda.is_available()
DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU")])]
on_devices = pytest.mark.parametrize("device", DEVICES)
