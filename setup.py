"""Packaging for tinytorch.

The repository keeps `kernels/` and `models/` as top-level folders (they read best that way, like
llm.c's dev/cuda), but they install as `tinytorch.kernels` and `tinytorch.models`.
"""
from setuptools import setup

from pathlib import Path

ROOTS = {"tinytorch": "tinytorch", "tinytorch.kernels": "kernels", "tinytorch.models": "models"}


def packages():
    """Every folder with an __init__.py under each root, named inside the tinytorch namespace."""
    found = {}
    for name, folder in ROOTS.items():
        for init in sorted(Path(folder).rglob("__init__.py")):
            rel = init.parent.relative_to(folder).parts
            found[".".join((name,) + rel)] = init.parent.as_posix()
    return found


PACKAGES = packages()
# Intel MKL's gemm (kernels/cpu/mkl_matmul.py), used where tinytorch/cpu_matmul.py measures it faster than
# NumPy's OpenBLAS; its wheels are x86-64 only
MKL = "mkl>=2024; platform_machine == 'x86_64' and sys_platform == 'linux'"
# the chat web server (python -m tinytorch.models.chat serve); the test extra adds Playwright, which drives
# Debian's Chromium (apt-get install chromium) in the browser test and never downloads a browser of its own
CHAT = ["fastapi>=0.110", "uvicorn>=0.29"]
# tinytorch.distributed's engine between processes: mpi4py on the MPICH wheel (its libmpi and mpiexec)
DISTRIBUTED = ["mpi4py>=4.0", "mpich>=4.2"]

setup(
    name="tinytorch",
    version="0.1.0",
    description="A from-scratch deep-learning framework on NumPy/CuPy with the Zero-to-Hero models",
    python_requires=">=3.10",
    packages=list(PACKAGES),
    package_dir=PACKAGES,
    package_data={"tinytorch.models.chat": ["ui.html"]},
    install_requires=[
        "numpy>=1.24",
        "ml_dtypes>=0.3",  # bfloat16 arrays (tinytorch.bfloat16)
        "numba>=0.59",
        "threadpoolctl>=3.1",
        "safetensors>=0.4",
        "regex>=2023.0",
        "tqdm>=4.60",
        "matplotlib>=3.7",
    ],
    extras_require={
        "gpu": ["cupy-cuda12x", "numba-cuda[cu12]"],
        "mkl": [MKL],
        "chat": CHAT,
        "distributed": DISTRIBUTED,
        "test": ["pytest>=7", "hypothesis>=6", "pytest-xdist>=3", "torch==2.13.0", "tiktoken>=0.7", MKL, *CHAT,
                 "playwright>=1.40"],
        "bench": ["torch==2.13.0", "tiktoken>=0.7", "psutil", MKL],
    },
)
