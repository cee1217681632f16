#!/usr/bin/env bash
# The shakespeare-char-cpu race: tinytorch, then its PyTorch twin (same weights, same batches), back to
# back, one BLAS/OpenMP thread each; tinytorch with its Numba CPU kernels (TINYTORCH_KERNELS=numpy for the
# NumPy code) and MKL's matmuls when the mkl extra is installed (TINYTORCH_CPU_MATMUL=numpy for NumPy's BLAS).
# Writes runs/sc-cpu*, and benchmarks/results/shakespeare_char_cpu.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
export TINYTORCH_KERNELS=${TINYTORCH_KERNELS:-numba}
PY=${PY:-.venv/bin/python}
export TINYTORCH_CPU_MATMUL=${TINYTORCH_CPU_MATMUL:-$($PY -c 'from tinytorch.cpu_matmul import mkl_available as a; print("mkl" if a() else "numpy")')}
# --sample_tokens=0: the twin writes no text samples at its evaluations, so neither does tinytorch here
$PY -m tinytorch.models.gpt train --preset shakespeare-char-cpu --out runs/sc-cpu --sample_tokens=0
$PY benchmarks/torch_twin_shakespeare.py --preset shakespeare-char-cpu --out runs/sc-cpu-torch --compare runs/sc-cpu \
    --update-results
