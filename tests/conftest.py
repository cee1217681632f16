"""Shared test setup: the hypothesis `ci` profile and the data folder."""
import os
from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, max_examples=25, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None, max_examples=200)

_shared_data = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("TINYTORCH_DATA") and _shared_data.is_dir():
    os.environ["TINYTORCH_DATA"] = str(_shared_data)
