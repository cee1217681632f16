#!/usr/bin/env bash
# Everything tinytorch checks on a GPU, in one prepared run of a few minutes: the gpt2-124m
# training step against PyTorch (bench_train.py), a shakespeare-char-cpu training run with
# --device cuda, the device test suite (pytest -m gpu) and the Numba-CUDA kernel benchmark.
#
#   TINYTORCH_DATA=../shared/data bash benchmarks/gpu_session.sh OUTDIR
#   GPU_STEPS="train_gpu tests" bash benchmarks/gpu_session.sh OUTDIR     # only these steps
#
# Needs CuPy, numba-cuda and a CUDA build of torch; tinytorch runs from this checkout without
# being installed. Each step has a time limit; OUTDIR/summary.txt lists every step's exit
# status and seconds, OUTDIR/<step>.log its output, and the benchmark tables land in OUTDIR too.
set -u
out=$(mkdir -p "${1:-benchmarks/results/gpu_session}" && cd "${1:-benchmarks/results/gpu_session}" && pwd)
python=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 CUPY_TF32=0

work=$(mktemp -d)  # a copy laid out as setup.py installs it (kernels/ and models/ inside tinytorch/)
cp -r tinytorch tests benchmarks pytest.ini "$work/" && cp -r kernels models "$work/tinytorch/" && cd "$work" || exit 1
export PYTHONPATH="$work${PYTHONPATH:+:$PYTHONPATH}"

steps=" ${GPU_STEPS:-machine train_gpu shakespeare_cuda tests kernels_gpu} "
step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2 t0=$SECONDS status
    shift 2
    [[ $steps == *" $name "* ]] || return 0
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
    status=$?
    echo "$name: exit $status in $((SECONDS - t0)) s (limit $limit s)" | tee -a "$out/summary.txt"
    tail -n 4 "$out/$name.log"
}

step machine 30 bash -c "nvidia-smi; $python -c 'import sys, numpy, cupy, numba, torch; \
print(sys.version.split()[0], \"numpy\", numpy.__version__, \"cupy\", cupy.__version__, \"numba\", numba.__version__, \
\"torch\", torch.__version__, torch.cuda.get_device_name(0))'"
step train_gpu 150 $python benchmarks/bench_train.py --models gpt2-124m --steps 10 --warmup 2 --rss-steps 0 \
    --out "$out" --name train_gpu --profile 2
step shakespeare_cuda 100 $python -m tinytorch.models.gpt train --preset shakespeare-char-cpu \
    --dataset tinyshakespeare --device cuda --out "$out/shakespeare_cuda" --overwrite
step tests 220 $python -m pytest -q -m gpu -n 8 -p no:cacheprovider --ignore=tests/cudasim -rfEs tests
# the row kernels first (the naive matmul v1 at 4096^3 alone took most of the last session's 170 s)
step kernels_gpu 170 $python benchmarks/bench_kernels.py --devices gpu --out "$out" \
    --kernels softmax_forward,softmax_backward,layernorm_forward,layernorm_backward,gelu_forward,gelu_backward
cat "$out/summary.txt"
