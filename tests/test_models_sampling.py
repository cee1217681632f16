"""models/sampling.py: the next token for GPT and makemore alike; temperature 0 is greedy, bad settings are refused."""
import pytest

import tinytorch
from tinytorch.models.sampling import generate, pick_next_token


class Counting(tinytorch.nn.Module):
    """A makemore-style model whose next-token logits favour (last token + 1) mod 5."""

    block_size = 3

    def forward(self, idx, targets=None):
        return 4.0 * tinytorch.nn.functional.one_hot((idx[:, -1] + 1) % 5, 5).float(), None


def test_temperature_zero_is_greedy_in_makemore_generate():
    out = generate(Counting(), tinytorch.zeros(2, 1, dtype=tinytorch.long), 6, temperature=0)
    assert out.tolist() == [[0, 1, 2, 3, 4, 0, 1]] * 2


@pytest.mark.parametrize("settings", [dict(temperature=-1.0), dict(top_k=0)])
def test_negative_temperature_and_top_k_below_one_are_refused(settings):
    with pytest.raises(ValueError, match=r"temperature must be >= 0 \(0: greedy\) and top_k >= 1"):
        pick_next_token(tinytorch.zeros(1, 5), **settings)
