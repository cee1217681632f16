"""Machine description written next to benchmark results: CPU name, core count, library versions."""
import os
import platform
from pathlib import Path

import numpy as np

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(**extra):
    """{"cpu", "cores", "python", "numpy", "thread_env", "load_average", ...extra}.

    The thread variables and the load average matter on a shared machine: BLAS threads that
    spin while other jobs hold the cores can make a step several times slower."""
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__}
    threads = {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ}
    if threads:
        info["thread_env"] = threads
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return {**info, **extra}


def describe(info):
    """One Markdown line for the table footer."""
    versions = ", ".join(f"{k} {v}" for k, v in info.items()
                         if k not in ("cpu", "cores", "load_average", "thread_env"))
    threads = "".join(f"; {k}={v}" for k, v in info.get("thread_env", {}).items())
    load = f"; load average at the end {info['load_average']}" if "load_average" in info else ""
    return f"Machine: {info['cpu']}, {info['cores']} cores; {versions}{threads}{load}."
