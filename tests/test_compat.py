"""The compat layer's mechanics: `import torch` resolves to tinytorch, unsupported names say so,
and `python -m tinytorch.run_as_torch` runs a script as Python would.

Each check runs in a fresh interpreter: installing the alias changes `sys.modules` for good, and
the pytest process may already hold the real torch.
"""
import json

import pytest

from scripts import python, under_compat


def test_torch_modules_are_aliases_of_tinytorchs_own():
    got = under_compat("""
        import json, sys
        import tinytorch, tinytorch.utils.data, tinytorch.utils.tensorboard
        import torch
        import torch.nn as nn
        import torch.nn.functional
        from torch.nn import functional as F
        from torch.utils.data import DataLoader
        from torch.utils.data.dataloader import DataLoader as DataLoaderFromSubmodule
        from torch.utils.data.sampler import RandomSampler
        from torch.utils.tensorboard import SummaryWriter
        print(json.dumps([
            torch.Tensor is tinytorch.Tensor,
            nn.Module is tinytorch.nn.Module,
            F is torch.nn.functional is sys.modules["torch.nn.functional"],
            F.__tinytorch__ is tinytorch.nn.functional,
            DataLoader is DataLoaderFromSubmodule is tinytorch.utils.data.DataLoader,
            RandomSampler is tinytorch.utils.data.RandomSampler,
            SummaryWriter is tinytorch.utils.tensorboard.SummaryWriter,
            torch.optim.lr_scheduler.__name__,
            torch.cuda.is_available is tinytorch.cuda.is_available,
            isinstance(torch.zeros(2), torch.Tensor),
        ]))
    """)
    assert got == [True] * 7 + ["torch.optim.lr_scheduler", True, True]


def test_unsupported_names_raise_a_clear_not_supported_error():
    got = under_compat("""
        import json
        import torch
        from tinytorch.compat import NotSupportedError
        def error_of(fn):
            try:
                fn()
            except Exception as e:
                return [type(e).__name__, str(e), isinstance(e, NotSupportedError),
                        isinstance(e, AttributeError), isinstance(e, ImportError)]
        def import_fft():
            import torch.fft
        def from_import_conv():
            from torch.nn import Conv3d
        print(json.dumps({
            "attr": error_of(lambda: torch.fft.rfft(torch.zeros(4))),
            "nested": error_of(lambda: torch.cuda.get_device_name(0)),
            "functional": error_of(lambda: torch.nn.functional.conv3d),
            "import": error_of(import_fft),
            "from_import": error_of(from_import_conv),
            "hasattr": hasattr(torch, "fft"),
        }))
    """)
    assert got["attr"] == ["NotSupportedAttributeError", "tinytorch does not support 'torch.fft' yet", True, True, False]
    assert got["nested"][1] == "tinytorch does not support 'torch.cuda.get_device_name' yet"
    assert got["functional"][1] == "tinytorch does not support 'torch.nn.functional.conv3d' yet"
    assert got["import"] == ["NotSupportedModuleError", "tinytorch does not support 'torch.fft' yet", True, False, True]
    assert got["from_import"][1:] == ["tinytorch does not support 'torch.nn.Conv3d' yet", True, False, True]
    assert got["hasattr"] is False


def test_importing_a_non_module_name_is_a_module_not_found_error():
    got = under_compat("""
        import json
        try:
            import torch.float32
        except ModuleNotFoundError as e:
            print(json.dumps(str(e)))
    """)
    assert got.startswith("No module named 'torch.float32'")


def test_gpu_speed_switches_are_harmless():
    got = under_compat("""
        import json, warnings
        import torch
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
        torch.set_float32_matmul_precision("high")
        model = torch.nn.Linear(2, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            compiled = torch.compile(model)
            decorated = torch.compile(mode="max-autotune")(len)
        print(json.dumps([torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark,
                          torch.backends.mps.is_available(), compiled is model, decorated is len,
                          [str(w.message) for w in caught]]))
    """)
    assert got[:5] == [True, True, False, True, True]
    assert got[5] == ["tinytorch does not support torch.compile; running the model uncompiled"] * 2


def test_mixed_precision_names_are_tinytorchs_own():
    got = under_compat("""
        import json, warnings
        import torch
        w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
        opt = torch.optim.SGD([w], lr=0.5)
        scaler = torch.cuda.amp.GradScaler(enabled=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with torch.autocast(device_type="cpu"):
                loss = (w * w).sum()
                product = w @ w
            torch.amp.GradScaler("cuda")
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        print(json.dumps([loss.dtype == torch.float32, product.dtype == torch.bfloat16, w.tolist(),
                          torch.cuda.is_bf16_supported(), [str(m.message) for m in caught]]))
    """)
    assert got == [True, True, [0.0, 0.0], False,
                   ["torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling."]]


def test_distributed_names_are_tinytorchs_own():
    got = under_compat("""
        import json
        import tinytorch.distributed, tinytorch.nn.parallel
        import torch
        import torch.distributed as dist
        from torch.distributed import init_process_group, destroy_process_group
        from torch.nn.parallel import DistributedDataParallel as DDP
        print(json.dumps([dist.is_available(), dist.is_initialized(),
                          init_process_group is tinytorch.distributed.init_process_group,
                          DDP is tinytorch.nn.parallel.DistributedDataParallel,
                          torch.distributed.ReduceOp.AVG is tinytorch.distributed.ReduceOp.AVG]))
    """)
    assert got == [True, False, True, True, True]


def test_module_dunders_come_from_tinytorch():
    got = under_compat("""
        import json
        import tinytorch, torch
        print(json.dumps([torch.__version__ == tinytorch.__version__, torch.__name__, torch.nn.__name__]))
    """)
    assert got == [True, "torch", "torch.nn"]


@pytest.mark.torch
def test_install_refuses_once_the_real_torch_is_imported():
    proc = python("-c", "import torch\nfrom tinytorch import compat\ncompat.install()", check=False)
    assert proc.returncode != 0
    assert "the real torch is already imported" in proc.stderr


def test_install_twice_returns_the_same_torch():
    assert under_compat("""
        import json
        from tinytorch import compat
        import torch
        print(json.dumps(compat.install() is torch))
    """) is True


SCRIPT = """
import json, os, sys
import torch
import helper_next_to_script
print(json.dumps({"name": __name__, "argv": sys.argv, "path0": sys.path[0], "file": os.path.basename(__file__),
                  "torch": type(torch.zeros(1)).__module__, "helper": helper_next_to_script.VALUE}))
sys.exit(int(sys.argv[-1]))
"""


def test_run_as_torch_runs_the_script_like_python_does(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    (tmp_path / "helper_next_to_script.py").write_text("VALUE = 42\n")
    proc = python("-m", "tinytorch.run_as_torch", str(script), "--lr", "0.1", "3", check=False)
    assert proc.returncode == 3, proc.stderr
    got = json.loads(proc.stdout)
    assert got == {"name": "__main__", "argv": [str(script), "--lr", "0.1", "3"], "path0": str(tmp_path),
                   "file": "train.py", "torch": "tinytorch.tensor", "helper": 42}


def test_run_as_torch_runs_a_module_with_dash_m(tmp_path):
    (tmp_path / "helper_next_to_script.py").write_text("VALUE = 7\n")
    (tmp_path / "trainmod.py").write_text(SCRIPT)
    proc = python("-m", "tinytorch.run_as_torch", "-m", "trainmod", "x", "0", cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert (got["name"], got["argv"][1:], got["torch"], got["helper"]) == ("__main__", ["x", "0"], "tinytorch.tensor", 7)


@pytest.mark.parametrize("args, message", [
    ((), "usage: python -m tinytorch.run_as_torch"),
    (("no_such_script.py",), "run_as_torch: no such script: no_such_script.py"),
    (("-m", "no_such_module_xyz"), "run_as_torch: no module named no_such_module_xyz"),
])
def test_run_as_torch_bad_input_gets_one_line(args, message):
    proc = python("-m", "tinytorch.run_as_torch", *args, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[0].startswith(message)
    assert "Traceback" not in proc.stderr


PRINTED_NAMES = """
x = torch.ones(2, 3, dtype=torch.int32)
names = [str(x.shape), repr(torch.float16), repr(x), x.type(), repr(x.max(0)), str(torch.zeros(0, 2))]
"""


def test_under_run_as_torch_names_print_as_torchs():
    """A script that believes it runs on torch prints torch's names: its output reads as torch's."""
    import torch
    scope = {"torch": torch}
    exec(PRINTED_NAMES, scope)
    assert under_compat("import json, torch\n" + PRINTED_NAMES + "print(json.dumps(names))") == scope["names"]
