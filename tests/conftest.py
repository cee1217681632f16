"""Shared test setup: the hypothesis `ci` profile, the data folder, and the `cpu_kernels_asked` fixture."""
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
def cpu_kernels_asked(monkeypatch):
    """The names of the kernels the code asks `backends.cpu_only_kernel` for during the test, in order."""
    import tinytorch.backends as backends
    asked = []
    real = backends.cpu_only_kernel
    monkeypatch.setattr(backends, "cpu_only_kernel", lambda name, xp: asked.append(name) or real(name, xp))
    return asked
