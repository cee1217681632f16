"""Machine description written next to benchmark results (CPU name, core count, library versions), and
the process-memory probes the benchmarks share. Imports nothing that starts a thread pool."""
import ctypes
import gc
import importlib.metadata
import os
import platform
import re
from pathlib import Path

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
NOT_VERSIONS = ("cpu", "cores", "load_average", "load_average_end", "thread_env")


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
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": importlib.metadata.version("numpy")}
    threads = {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ}
    if threads:
        info["thread_env"] = threads
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return {**info, **extra}


def describe(info):
    """One Markdown line for the table footer."""
    versions = ", ".join(f"{k} {v}" for k, v in info.items() if k not in NOT_VERSIONS)
    threads = "".join(f"; {k}={v}" for k, v in info.get("thread_env", {}).items())
    load = ""
    if "load_average" in info:
        load = f"; load average {info['load_average']} at the start"
        load += f", {info['load_average_end']} at the end" if "load_average_end" in info else ""
    return f"Machine: {info['cpu']}, {info['cores']} cores; {versions}{threads}{load}."


def rss_kb():
    """(peak RSS since the last reset, current RSS) of this process, in kB (Linux /proc)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)), int(re.search(r"VmRSS:\s+(\d+)", status).group(1))


def reset_peak_rss():
    """Free what can be freed (Python garbage, glibc's cached heap), then reset VmHWM to VmRSS."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
