"""Warnings from tinytorch's ops point at the user's line (caller_warnings.warn), however deep the op
sits: behind the autocast wrapper, a module's forward or a loss helper."""
import warnings

import pytest

import tinytorch
import tinytorch.nn.functional as F

a, b = tinytorch.ones(3, 4), tinytorch.ones(3, 1)
CASES = {
    "mse_loss, broadcast target": lambda: F.mse_loss(a, b),
    "l1_loss, broadcast target": lambda: F.l1_loss(a, b),
    "smooth_l1_loss, broadcast target": lambda: F.smooth_l1_loss(a, b),
    "huber_loss, broadcast target": lambda: F.huber_loss(a, b),
    "MSELoss module": lambda: tinytorch.nn.MSELoss()(a, b),
    "kl_div, reduction mean": lambda: F.kl_div(a, a),
    "softmax without dim": lambda: F.softmax(a),
    "log_softmax without dim": lambda: F.log_softmax(a),
    "dropout2d on 3-d input": lambda: F.dropout2d(tinytorch.ones(3, 4, 5)),
    "LSTM dropout with one layer": lambda: tinytorch.nn.LSTM(4, 4, dropout=0.5),
    "init of an empty tensor": lambda: tinytorch.nn.init.kaiming_uniform_(tinytorch.empty(0, 3)),
}


@pytest.mark.parametrize("case", CASES)
def test_the_warning_names_the_callers_line(case):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CASES[case]()
    assert caught, f"{case}: no warning"
    assert [w.filename for w in caught] == [__file__] * len(caught), [(w.filename, w.lineno) for w in caught]
