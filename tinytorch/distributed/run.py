"""The launcher: torchrun's command line, with MPI starting the processes.

    python -m tinytorch.distributed.run --nproc_per_node=N script.py [args...]
    python -m tinytorch.distributed.run --standalone --nproc_per_node=N -m package.module [args...]

Runs `mpiexec -n N python -m tinytorch.distributed.worker script.py args...`: mpiexec starts the N
processes and MPI connects them; each worker sets torchrun's variables (RANK, LOCAL_RANK,
WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) before running the script, so scripts
written for torchrun (build-nanogpt's `int(os.environ.get("RANK", -1))`) run unchanged, and
`init_process_group` finds the ranks in MPI. Under the torch compat layer
(`python -m tinytorch.run_as_torch -m torch.distributed.run ...`) every worker runs its script
under it too. `mpirun -n N python script.py` works as well, without these variables.

As torchrun does, OMP_NUM_THREADS is set to 1 for each process when it is not set and N > 1.
When a rank fails it stops the job (failure.py), and the launcher ends with that rank's exit
status and a line naming the rank and its error. One node only: for several hosts, use mpirun
with a host file. Torchrun's restart and rendezvous machinery has no equivalent here.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile

from .failure import ERROR_DIR, first_failure
from .mpi import MPINotInstalled, mpiexec

PROG = "python -m tinytorch.distributed.run"


def build_parser():
    p = argparse.ArgumentParser(prog=PROG, description="Start N processes of a training script (torchrun's flags).")
    p.add_argument("--nproc-per-node", "--nproc_per_node", default="1",
                   help="processes to start: a number, cpu (one per core), gpu (one per GPU) or auto")
    p.add_argument("--nnodes", default="1", help="must be 1 (for several hosts use mpirun with a host file)")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0, help="must be 0")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1", help="sets MASTER_ADDR")
    p.add_argument("--master-port", "--master_port", type=int, default=29500, help="sets MASTER_PORT")
    p.add_argument("--standalone", action="store_true", help="single node; MASTER_PORT is a free port")
    for flag in ("rdzv-backend", "rdzv-endpoint", "rdzv-id", "rdzv-conf"):
        p.add_argument(f"--{flag}", f"--{flag.replace('-', '_')}", default="", help="accepted, not used (one node)")
    p.add_argument("--max-restarts", "--max_restarts", type=int, default=0, help="must be 0")
    p.add_argument("-m", "--module", action="store_true", help="run the script argument as a module (python -m)")
    p.add_argument("training_script", help="the script (or with -m, the module) to run on every process")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def processes(value):
    """--nproc_per_node: a number, or cpu, gpu, auto (GPUs if there are any, else cores)."""
    if value.isdigit() and int(value) > 0:
        return int(value)
    if value in ("gpu", "auto"):
        from .. import cuda
        gpus = cuda.device_count()
        if gpus or value == "auto":
            return gpus or os.cpu_count()
        raise ValueError("--nproc_per_node=gpu: no CUDA GPU here")
    if value == "cpu":
        return os.cpu_count()
    raise ValueError(f"--nproc_per_node must be a number >= 1, cpu, gpu or auto, got {value!r}")


def check(args):
    if args.nnodes not in ("1", "1:1"):
        raise ValueError(f"--nnodes={args.nnodes}: this launcher starts one node; for several hosts run "
                         "`mpirun -n N -f HOSTFILE python script.py` (the ranks come from MPI)")
    if args.node_rank != 0:
        raise ValueError(f"--node_rank={args.node_rank}: this launcher starts one node (node rank 0)")
    if args.max_restarts:
        raise ValueError(f"--max_restarts={args.max_restarts}: restarting failed workers is not supported")
    if not args.module and not os.path.isfile(args.training_script):
        raise ValueError(f"no such script: {args.training_script}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(n, args, as_torch):
    """mpiexec starting n workers, each running the script (under the compat layer when `as_torch`)."""
    worker = [sys.executable, "-m", "tinytorch.distributed.worker"] + (["--as-torch"] if as_torch else [])
    target = (["-m"] if args.module else []) + [args.training_script, *args.training_script_args]
    return [mpiexec(), "-n", str(n), *worker, *target]


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        check(args)
        n = processes(args.nproc_per_node)
        compat = sys.modules.get("tinytorch.compat")
        cmd = command(n, args, as_torch=compat is not None and compat.installed())
    except (ValueError, MPINotInstalled) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    env = dict(os.environ, MASTER_ADDR="localhost" if args.standalone else args.master_addr,
               MASTER_PORT=str(free_port() if args.standalone else args.master_port))
    if n > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = "1"
        print(f"{PROG}: setting OMP_NUM_THREADS=1 for each process (as torchrun does); set it to tune",
              file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="tinytorch-run-") as errors:
        env[ERROR_DIR] = errors
        try:
            code = subprocess.run(cmd, env=env).returncode
        except KeyboardInterrupt:
            raise SystemExit(130) from None
        failed = first_failure(errors)
    if failed is not None:
        print(f"{PROG}: {args.training_script} failed: rank {failed['rank']} (local_rank {failed['local_rank']}, "
              f"pid {failed['pid']}) exited with status {failed['exitcode']}: {failed['error']}", file=sys.stderr)
        code = failed["exitcode"]
    elif code:
        print(f"{PROG}: {args.training_script} failed: mpiexec exited with status {code}", file=sys.stderr)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
