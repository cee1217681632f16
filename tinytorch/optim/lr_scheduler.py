"""Learning-rate schedules (torch.optim.lr_scheduler) and GPT-2's warmup + cosine schedule.

A scheduler sets `group['lr']` of its optimizer's groups. It takes one step at construction
(epoch 0) and one per `scheduler.step()` call, made after `optimizer.step()`.
"""
import math
import types

from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses compute the new learning rates in `get_lr()` from
    `self.last_epoch`, `self.base_lrs` (each group's 'initial_lr') and the groups' current lr."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a scheduler "
                               f"with last_epoch={last_epoch}")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self):
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def get_last_lr(self):
        """The learning rates set by the latest step, one per parameter group."""
        return self._last_lr

    def step(self):
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Every attribute except the optimizer (torch's format)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch); `lr_lambda` is one function or one per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        """As the base class, with plain functions stored as None (they cannot be saved) and
        callable objects as their attribute dicts."""
        state = super().state_dict()
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas")
        super().load_state_dict(state)
        for fn, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                fn.__dict__.update(attrs)


class StepLR(LRScheduler):
    """Multiply the lr by gamma every step_size epochs (lr = base_lr * gamma^(epoch // step_size)),
    computed recursively as torch does, so the float sequence matches torch's exactly."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2, continuing as a
    cosine wave past T_max. Computed recursively from the current lr, as torch does:

        lr(t) = eta_min + (lr(t-1) - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T)),

    except at the restarts of the wave, (t - 1 - T) % 2T == 0, where the ratio is 0/0 and
    lr(t) = lr(t-1) + (base_lr - eta_min) * (1 - cos(pi / T)) / 2.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        t, T, low = self.last_epoch, self.T_max, self.eta_min
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (base - low) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - low) + low for lr in self._current_lrs()]


def get_cosine_with_warmup_lr(step, max_lr, min_lr, warmup_steps, max_steps):
    """GPT-2's schedule as in build-nanogpt: a linear warmup to max_lr over `warmup_steps`
    (max_lr * (step + 1) / warmup_steps), then a cosine decay to min_lr at `max_steps`, then min_lr.

        decay = (step - warmup_steps) / (max_steps - warmup_steps)
        lr    = min_lr + (max_lr - min_lr) * 0.5 * (1 + cos(pi * decay))
    """
    if not 0 <= warmup_steps < max_steps:
        raise ValueError(f"cosine with warmup: need 0 <= warmup_steps < max_steps, got {warmup_steps} and {max_steps}")
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step > max_steps:
        return min_lr
    decay_ratio = (step - warmup_steps) / (max_steps - warmup_steps)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (max_lr - min_lr)


class CosineWithWarmupLR(LRScheduler):
    """`get_cosine_with_warmup_lr` per group: max_lr is the group's initial lr and
    min_lr = max_lr * min_lr_ratio (build-nanogpt uses 0.1)."""

    def __init__(self, optimizer, warmup_steps, max_steps, min_lr_ratio=0.1, last_epoch=-1):
        self.warmup_steps = warmup_steps
        self.max_steps = max_steps
        self.min_lr_ratio = min_lr_ratio
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [get_cosine_with_warmup_lr(self.last_epoch, base, base * self.min_lr_ratio, self.warmup_steps,
                                          self.max_steps) for base in self.base_lrs]
