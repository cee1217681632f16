"""The allow-list: add_safe_globals / get_safe_globals / clear_safe_globals / safe_globals as torch has
them, an added class matched by `module.qualname` as torch matches it (`__main__.GPTConfig` from a
script), blocked modules staying blocked, and `torch.serialization` resolving to all this under
run_as_torch."""
import dataclasses
import os
import subprocess
import sys
import textwrap

import pytest
import torch

import tinytorch
from tinytorch.serialization import (UnpicklingError, add_safe_globals, clear_safe_globals, get_safe_globals,
                                     safe_globals)

pytestmark = pytest.mark.torch


@dataclasses.dataclass
class TrainConfig:
    lr: float = 3e-4
    steps: int = 10


@pytest.fixture(autouse=True)
def no_safe_globals():
    clear_safe_globals()
    yield
    clear_safe_globals()


def saved_config(tmp_path):
    with torch.serialization.safe_globals([TrainConfig]):
        torch.save({"config": TrainConfig(lr=0.1)}, tmp_path / "ckpt.pt")
    return tmp_path / "ckpt.pt"


def test_a_class_loads_once_it_is_added(tmp_path):
    path = saved_config(tmp_path)
    name = f"{TrainConfig.__module__}.TrainConfig"
    with pytest.raises(UnpicklingError, match=rf"'{path}' uses GLOBAL {name}, which is not an allowed global.*"
                                              r"add_safe_globals\(\[TrainConfig\]\)"):
        tinytorch.load(path)
    add_safe_globals([TrainConfig])
    assert get_safe_globals() == [TrainConfig]
    assert tinytorch.load(path)["config"] == TrainConfig(lr=0.1)
    clear_safe_globals()
    assert get_safe_globals() == []
    with pytest.raises(UnpicklingError):
        tinytorch.load(path)


def test_safe_globals_allows_inside_the_block_only(tmp_path):
    path = saved_config(tmp_path)
    with safe_globals([TrainConfig]):
        assert tinytorch.load(path)["config"].lr == 0.1
    assert get_safe_globals() == []
    add_safe_globals([TrainConfig])
    with safe_globals([TrainConfig]):
        pass
    assert get_safe_globals() == [TrainConfig]  # what was added before the block stays


def test_a_pair_names_the_class_as_the_checkpoint_does(tmp_path):
    script = textwrap.dedent(f"""
        import dataclasses, torch
        @dataclasses.dataclass
        class GPTConfig:
            n_layer: int = 12
        torch.save({{"config": GPTConfig(n_layer=2), "w": torch.ones(2)}}, {str(tmp_path / 'ckpt.pt')!r})
    """)
    subprocess.run([sys.executable, "-c", script], check=True)
    with pytest.raises(UnpicklingError, match="GLOBAL __main__.GPTConfig"):
        tinytorch.load(tmp_path / "ckpt.pt")
    add_safe_globals([TrainConfig])  # another name: still refused
    with pytest.raises(UnpicklingError, match="GLOBAL __main__.GPTConfig"):
        tinytorch.load(tmp_path / "ckpt.pt")
    add_safe_globals([(TrainConfig, "__main__.GPTConfig")])
    config = tinytorch.load(tmp_path / "ckpt.pt")["config"]
    assert type(config) is TrainConfig and config.n_layer == 2


def test_a_script_run_as_torch_allows_its_own_class_with_torch_serialization(tmp_path):
    """What a PyTorch training script does under `python -m tinytorch.run_as_torch`: its config class
    lives in __main__ on both sides, and it calls torch.serialization.add_safe_globals."""
    script = tmp_path / "resume.py"
    script.write_text(textwrap.dedent(f"""
        import dataclasses, sys, torch
        import tinytorch
        @dataclasses.dataclass
        class GPTConfig:
            n_layer: int = 12
        path = {str(tmp_path / 'ckpt.pt')!r}
        if sys.argv[1] == "save":
            torch.save({{"config": GPTConfig(n_layer=3), "w": torch.arange(3.0)}}, path)
        else:
            assert torch.serialization.add_safe_globals is tinytorch.serialization.add_safe_globals
            from torch.serialization import safe_globals
            assert safe_globals is tinytorch.serialization.safe_globals
            torch.serialization.add_safe_globals([GPTConfig])
            ckpt = torch.load(path, map_location="cpu")
            assert torch.serialization.get_safe_globals() == [GPTConfig]
            print(type(ckpt["config"]).__module__, ckpt["config"].n_layer, ckpt["w"].tolist())
    """))
    subprocess.run([sys.executable, str(script), "save"], check=True)
    out = subprocess.run([sys.executable, "-m", "tinytorch.run_as_torch", str(script), "load"], check=True,
                         capture_output=True, text=True).stdout
    assert out.split() == ["__main__", "3", "[0.0,", "1.0,", "2.0]"]


def test_blocked_modules_stay_blocked_even_when_added(tmp_path):
    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {tmp_path / 'marker'}",)

    torch.save({"w": torch.ones(1), "evil": Evil()}, tmp_path / "evil.pt")
    add_safe_globals([os.system, (os.system, "posix.system")])
    with pytest.raises(UnpicklingError, match="GLOBAL posix.system, whose module posix is blocked"):
        tinytorch.load(tmp_path / "evil.pt")
    assert not (tmp_path / "marker").exists()


def test_torch_features_tinytorch_lacks_are_named(tmp_path):
    torch.save({"q": torch.int8}, tmp_path / "int8.pt")
    with pytest.raises(UnpicklingError, match="GLOBAL torch.int8, a torch feature that tinytorch cannot load"):
        tinytorch.load(tmp_path / "int8.pt")


def test_entries_must_be_named():
    with pytest.raises(TypeError, match="pair"):
        add_safe_globals([(TrainConfig, 3)])
    with pytest.raises(TypeError, match="__module__"):
        add_safe_globals([3])
