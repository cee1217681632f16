#!/usr/bin/env bash
# The shakespeare-char-cpu race: tinytorch, then its PyTorch twin (same weights, same batches), back to
# back, one BLAS/OpenMP thread each. Writes runs/sc-cpu*, and benchmarks/results/shakespeare_char_cpu.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
PY=${PY:-.venv/bin/python}
$PY -m tinytorch.models.gpt train --preset shakespeare-char-cpu --out runs/sc-cpu
$PY benchmarks/torch_twin_shakespeare.py --preset shakespeare-char-cpu --out runs/sc-cpu-torch --compare runs/sc-cpu
