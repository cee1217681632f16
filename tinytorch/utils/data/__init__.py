"""torch.utils.data: datasets, samplers, batching and the DataLoader that ties them together.

A map-style `Dataset` answers `len(ds)` and `ds[i]`. A sampler yields indices; `BatchSampler`
groups them into lists of `batch_size`; the `DataLoader` fetches each list and hands the
samples to `collate_fn` (by default `default_collate`, which stacks tensors, NumPy arrays
and numbers along a new leading dim and recurses into tuples, lists and dicts).

Shuffling draws from tinytorch's generators, so `manual_seed` makes it reproducible. Loading
always happens in the main process: `num_workers`, `pin_memory` and the other worker options
are accepted for compatibility with torch scripts and change nothing.

The submodules mirror torch's (`dataset`, `sampler`, `dataloader`), so imports such as
`from torch.utils.data.dataloader import DataLoader` resolve too.
"""
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "default_collate", "default_convert", "random_split"]
