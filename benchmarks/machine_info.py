"""Machine description written next to benchmark results: CPU name, core count, library versions."""
import os
import platform
from pathlib import Path

import numpy as np


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(**extra):
    """{"cpu", "cores", "python", "numpy", "load_average", ...extra}; load average shows contention."""
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__}
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return {**info, **extra}


def describe(info):
    """One Markdown line for the table footer."""
    versions = ", ".join(f"{k} {v}" for k, v in info.items() if k not in ("cpu", "cores", "load_average"))
    load = f"; load average at the end {info['load_average']}" if "load_average" in info else ""
    return f"Machine: {info['cpu']}, {info['cores']} cores; {versions}{load}."
