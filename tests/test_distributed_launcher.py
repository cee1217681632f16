"""The launcher (python -m tinytorch.distributed.run): a failing rank ends the whole job with its
error instead of a hang, under the launcher and under a plain mpiexec; bad command lines and a
missing MPI get one line."""
import sys

import pytest

from launching import launch, mpiexec, run, script

HANG = 60  # seconds: the jobs below end in a few; a hang fails the test through subprocess's timeout


@pytest.mark.parametrize("failing", [0, 1])
def test_a_rank_that_raises_ends_the_job_with_its_error(failing):
    done = launch(2, script("fail.py"), env={"FAIL_RANK": str(failing)}, timeout=HANG, check=False)
    assert done.returncode == 1
    assert "finished without the failed rank" not in done.stdout
    assert f"[rank{failing}]: ValueError: rank {failing} cannot go on" in done.stderr
    assert f'[rank{failing}]:   File "{script("fail.py")}"' in done.stderr  # the script's frames, not the launcher's
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"python -m tinytorch.distributed.run: {script('fail.py')} failed: rank {failing} "
                           f"(local_rank {failing}, pid ")
    assert last.endswith(f"exited with status 1: ValueError: rank {failing} cannot go on")


def test_a_rank_that_exits_with_a_status_ends_the_job_with_it():
    done = launch(2, script("fail.py"), env={"EXIT": "3"}, timeout=HANG, check=False)
    assert done.returncode == 3
    assert "[rank1]: SystemExit(3): the script exited with status 3" in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("exited with status 3: SystemExit(3)")


def test_under_a_plain_mpiexec_an_uncaught_exception_ends_the_job_too():
    done = run([mpiexec(), "-n", "2", sys.executable, script("fail.py")], timeout=HANG, check=False)
    assert done.returncode != 0
    assert "[rank1]: ValueError: rank 1 cannot go on" in done.stderr
    assert "finished without the failed rank" not in done.stdout


@pytest.mark.parametrize("args, message", [
    (["--nproc_per_node=2", "missing.py"], "error: no such script: missing.py"),
    (["--nproc_per_node=0", "x.py"], "error: --nproc_per_node must be a number >= 1, cpu, gpu or auto, got '0'"),
    (["--nnodes=2", "--nproc_per_node=2", "x.py"],
     "error: --nnodes=2: this launcher starts one node; for several hosts run `mpirun -n N -f HOSTFILE python "
     "script.py` (the ranks come from MPI)"),
    (["--max_restarts=3", "x.py"], "error: --max_restarts=3: restarting failed workers is not supported"),
])
def test_bad_command_lines_get_one_line(args, message, tmp_path):
    (tmp_path / "x.py").write_text("")
    done = run([sys.executable, "-m", "tinytorch.distributed.run", *args], check=False, timeout=HANG,
               cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"python -m tinytorch.distributed.run: {message}\n"


WITHOUT_MPI = "import sys; sys.modules['mpi4py'] = None; "


def test_without_mpi_the_launcher_says_which_extra_to_install(tmp_path):
    (tmp_path / "x.py").write_text("")
    done = run([sys.executable, "-c", WITHOUT_MPI + "from tinytorch.distributed.run import main; "
                "main(['--nproc_per_node=2', 'x.py'])"], check=False, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "tinytorch.distributed needs MPI, which is not installed" in done.stderr
    assert done.stderr.endswith("pip install 'tinytorch[distributed]' (mpi4py and the mpich wheel)\n")


def test_without_mpi_init_process_group_says_which_extra_to_install():
    done = run([sys.executable, "-c", WITHOUT_MPI + "import tinytorch.distributed as dist; "
                "dist.init_process_group('gloo')"], check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(
        "tinytorch.distributed.mpi.MPINotInstalled: tinytorch.distributed needs MPI, which is not installed")
