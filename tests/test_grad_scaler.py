"""tinytorch.amp.GradScaler against torch.amp.GradScaler (device="cpu" for both) on one scripted run:
good steps, steps with an inf or nan gradient (skipped, the scale backed off), growth after
growth_interval good steps, an explicit unscale_ before step, update(new_scale), and a state_dict
round trip into a fresh scaler that carries on the same way."""
import math
import warnings

import pytest
import torch

import tinytorch

# per iteration: the value injected into the first gradient element (None: none), whether unscale_ is
# called before step, and the new_scale given to update
SCRIPT = [(None, False, None), (None, True, None), (math.inf, False, None), (None, False, None),
          (None, False, None), (None, True, None), (math.nan, False, None), (-math.inf, True, None),
          (None, False, 256.0), (None, False, None), (None, False, None), (None, False, None)]


def run(m, script, scaler=None):
    """The trajectory of (scale, tracker, step result, weights) after each iteration, and the scaler."""
    w = m.nn.Parameter(m.tensor([1.0, -2.0, 0.5]))
    opt = m.optim.SGD([w], lr=0.1)
    scaler = scaler or m.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=3)
    trajectory = []
    for inject, unscale_first, new_scale in script:
        opt.zero_grad()
        scaler.scale((w * w).sum()).backward()
        if inject is not None:
            with m.no_grad():
                w.grad[0] = inject
        if unscale_first:
            scaler.unscale_(opt)
            trajectory.append(w.grad.tolist())
        result = scaler.step(opt)
        scaler.update(new_scale)
        trajectory.append((scaler.get_scale(), scaler.state_dict()["_growth_tracker"], result, w.tolist()))
    return trajectory, scaler


def test_scripted_run_matches_torch():
    got, _ = run(tinytorch, SCRIPT)
    want, _ = run(torch, SCRIPT)
    assert repr(got) == repr(want)  # repr: nan == nan


def test_state_dict_round_trip_matches_torch():
    states, continued = [], []
    for m in (torch, tinytorch):
        _, scaler = run(m, SCRIPT[:8])
        state = scaler.state_dict()
        fresh = m.amp.GradScaler("cpu")
        fresh.load_state_dict(state)
        states.append(state)
        continued.append(run(m, SCRIPT[8:], fresh)[0])
    assert states[0] == states[1]
    assert continued[0] == continued[1]


def test_growth_stops_at_float32s_largest_scale():
    script = [(None, False, None)] * 4
    results = []
    for m in (torch, tinytorch):
        scaler = m.amp.GradScaler("cpu", init_scale=2.0**127, growth_interval=1)
        results.append(run(m, script, scaler)[0])
    assert results[0] == results[1]


def test_cuda_scaler_without_cuda_is_disabled_as_torchs():
    seen = []
    for m in (torch, tinytorch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scaler = m.amp.GradScaler()
            legacy = m.cuda.amp.GradScaler()
        loss = m.tensor(3.0)
        seen.append((scaler.is_enabled(), legacy.is_enabled(), scaler.get_scale(), scaler.state_dict(),
                     scaler.scale(loss) is loss, [(w.category, str(w.message).replace(m.__name__, "torch"))
                                                  for w in caught]))
    assert seen[0] == seen[1]


@pytest.mark.parametrize("misuse", ["unscale_twice", "step_twice", "update_before_scale", "empty_state"])
def test_misuse_raises_torchs_errors(misuse):
    errors = []
    for m in (torch, tinytorch):
        w = m.nn.Parameter(m.ones(2))
        opt = m.optim.SGD([w], lr=0.1)
        scaler = m.amp.GradScaler("cpu")
        try:
            if misuse == "update_before_scale":
                scaler.update()
            elif misuse == "empty_state":
                scaler.load_state_dict({})
            else:
                scaler.scale(w.sum()).backward()
                first = scaler.unscale_ if misuse == "unscale_twice" else scaler.step
                first(opt)
                first(opt)
        except (RuntimeError, AssertionError) as e:
            errors.append((type(e), str(e)))
    assert len(errors) == 2 and errors[0] == errors[1]
