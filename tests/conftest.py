"""Shared test setup: the hypothesis `ci` profile, the data folder, and the `kernels_used` fixture."""
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, max_examples=25, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None, max_examples=200)

_shared_data = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("TINYTORCH_DATA") and _shared_data.is_dir():
    os.environ["TINYTORCH_DATA"] = str(_shared_data)


@pytest.fixture
def kernels_used(monkeypatch):
    """{kernel name: the modules of the implementations tinytorch.backends.kernel returned for it}
    during the test, e.g. {"softmax_forward": {"tinytorch.kernels.cpu.softmax"}}."""
    import tinytorch.backends as backends
    used = {}
    real = backends.kernel

    def recording(name, array):
        found = real(name, array)
        used.setdefault(name, set()).add(found.__module__)
        return found
    monkeypatch.setattr(backends, "kernel", recording)
    return used
