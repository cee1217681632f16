"""tinytorch.distributions: torch.distributions' Categorical, Normal, Bernoulli and Uniform, with
torch's shapes (sample_shape + batch_shape + event_shape), argument and sample validation, and
samples drawn from torch's random streams as torch draws them (same seed, same samples)."""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .normal import Normal
from .uniform import Uniform

__all__ = ["constraints", "Distribution", "Bernoulli", "Categorical", "Normal", "Uniform"]
