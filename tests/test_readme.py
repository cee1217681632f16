"""The README's code sample prints what its comment says, under tinytorch and under PyTorch alike."""
import contextlib
import io
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def sample():
    return re.search(r"```python\n(import tinytorch as torch.*?)```", README, re.S).group(1)


def printed(code):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    return out.getvalue().strip()


def promised():
    return re.search(r"# (loss [\d.]+), as PyTorch prints it", sample()).group(1)


def test_readme_sample_prints_its_comment():
    assert printed(sample()) == promised()


@pytest.mark.torch
def test_readme_sample_prints_the_same_under_pytorch():
    as_torch = re.sub(r"^import tinytorch(\.\S+)? as", lambda m: f"import torch{m.group(1) or ''} as", sample(),
                      flags=re.M)
    assert "tinytorch" not in as_torch
    assert printed(as_torch) == promised()
