"""tinytorch.serialization.atomic: files get the user's umask, and killed writers' temporary files are cleaned up."""
import os
import subprocess
import sys

import pytest

import tinytorch
from tinytorch.serialization import atomic


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield 0o640  # what open(path, "w") gives under this umask
    os.umask(old)


def mode(path):
    return os.stat(path).st_mode & 0o777


@pytest.mark.parametrize("name, write", [
    ("notes.txt", lambda path: atomic.write_text(path, "text")),
    ("ckpt.safetensors", lambda path: tinytorch.save({"w": tinytorch.ones(3)}, path)),
])
def test_written_files_get_the_users_umask(tmp_path, umask_027, name, write):
    write(tmp_path / name)
    assert mode(tmp_path / name) == umask_027
    assert os.listdir(tmp_path) == [name]


def test_remove_leftovers_deletes_the_temporary_files_of_dead_writers_only(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    names = {
        "dead": f".ckpt.safetensors.{dead_pid}.0123abcd.tmp",        # its writer was killed: removed
        "alive": f".metrics.json.{os.getpid()}.89abcdef.tmp",        # a writer still running: kept
        "ours": "ckpt.safetensors",                                   # real files: kept
        "other": f".notes.{dead_pid}.tmp",                            # not a name atomic writes: kept
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"x")
    assert atomic.remove_leftovers(tmp_path) == [names["dead"]]
    assert sorted(os.listdir(tmp_path)) == sorted(n for k, n in names.items() if k != "dead")
