"""tinytorch.utils.data: datasets, samplers, collation and the DataLoader, against torch's semantics."""
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinytorch
from tinytorch.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                                  SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                                  WeightedRandomSampler, default_collate, random_split)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i, i * i


def flat(loader):
    return [i for x, _ in loader for i in x.tolist()]


# ---- datasets --------------------------------------------------------------------------------
def test_tensor_dataset_indexes_every_tensor_along_dim_0():
    ds = TensorDataset(tinytorch.arange(6).view(3, 2), tinytorch.tensor([10, 20, 30]))
    x, y = ds[1]
    assert (len(ds), x.tolist(), y.item()) == (3, [2, 3], 20)


def test_tensor_dataset_refuses_tensors_of_different_lengths():
    with pytest.raises(ValueError, match=r"size mismatch.*\[3, 4\]"):
        TensorDataset(tinytorch.zeros(3, 2), tinytorch.zeros(4))


def test_subset_and_concat_dataset():
    cat = ConcatDataset([Squares(3), Squares(2)])
    assert [cat[i][0] for i in range(len(cat))] == [0, 1, 2, 0, 1]
    assert cat[-1] == (1, 1)
    with pytest.raises(IndexError, match="out of range for length 5"):
        cat[5]
    assert [Subset(Squares(10), [7, 2])[i] for i in range(2)] == [(7, 49), (2, 4)]
    assert len(Squares(2) + Squares(4)) == 6


def test_random_split_partitions_by_lengths_and_by_fractions():
    tinytorch.manual_seed(0)
    parts = random_split(Squares(10), [7, 3])
    assert [len(p) for p in parts] == [7, 3]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert [len(p) for p in random_split(Squares(11), [0.5, 0.3, 0.2])] == [6, 3, 2]
    with pytest.raises(ValueError, match=r"sum to 9, not to the dataset's length 10"):
        random_split(Squares(10), [5, 4])


# ---- samplers --------------------------------------------------------------------------------
def test_sequential_sampler_counts_up():
    assert list(SequentialSampler(Squares(4))) == [0, 1, 2, 3]


def test_random_sampler_without_replacement_is_a_fresh_permutation_per_block():
    tinytorch.manual_seed(1)
    sampler = RandomSampler(Squares(5), num_samples=12)
    drawn = list(sampler)
    assert len(sampler) == len(drawn) == 12
    assert sorted(drawn[:5]) == sorted(drawn[5:10]) == list(range(5))
    assert len(set(drawn[10:])) == 2


def test_random_sampler_with_replacement_draws_uniformly_in_range():
    tinytorch.manual_seed(2)
    drawn = list(RandomSampler(Squares(4), replacement=True, num_samples=10_000))
    counts = np.bincount(drawn, minlength=4)
    assert len(drawn) == 10_000 and counts.min() > 2200 and counts.max() < 2800


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_random_sampler_refuses_a_bad_num_samples(bad):
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(Squares(3), num_samples=bad)


def test_random_sampler_is_reproducible_under_manual_seed_and_differs_between_epochs():
    sampler = RandomSampler(Squares(50))
    tinytorch.manual_seed(7)
    first, second = list(sampler), list(sampler)
    tinytorch.manual_seed(7)
    assert list(sampler) == first and first != second


def test_an_explicit_generator_drives_the_shuffle():
    orders = [list(RandomSampler(Squares(30), generator=tinytorch.Generator().manual_seed(3))) for _ in range(2)]
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(30))


def test_subset_random_and_weighted_samplers():
    tinytorch.manual_seed(4)
    assert sorted(SubsetRandomSampler([9, 4, 6])) == [4, 6, 9]
    drawn = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], num_samples=400))
    counts = np.bincount(drawn, minlength=4)
    assert counts[0] == counts[2] == 0 and 60 < counts[1] < 140


def test_batch_sampler_groups_and_drops_the_short_tail():
    assert list(BatchSampler(range(7), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(7), 0, drop_last=False)


# ---- collation -------------------------------------------------------------------------------
Pair = namedtuple("Pair", "x y")


def test_default_collate_stacks_each_kind_of_leaf():
    batch = default_collate([
        {"t": tinytorch.ones(2), "a": np.zeros(3, np.float32), "f": 0.5, "i": 3, "b": True, "s": "ab", "p": Pair(1, 2.0)},
        {"t": tinytorch.zeros(2), "a": np.ones(3, np.float32), "f": 1.5, "i": 4, "b": False, "s": "cd", "p": Pair(3, 4.0)},
    ])
    assert batch["t"].tolist() == [[1, 1], [0, 0]]
    assert (tuple(batch["a"].shape), batch["a"].dtype) == ((2, 3), tinytorch.float32)
    assert (batch["f"].dtype, batch["i"].dtype, batch["b"].dtype) == (tinytorch.float64, tinytorch.int64, tinytorch.bool)
    assert batch["s"] == ["ab", "cd"]
    assert isinstance(batch["p"], Pair) and batch["p"].y.tolist() == [2.0, 4.0]


def test_default_collate_turns_tuples_into_lists_of_batches():
    x, y = default_collate([(tinytorch.tensor([1, 2]), 0), (tinytorch.tensor([3, 4]), 1)])
    assert (x.tolist(), y.tolist()) == ([[1, 2], [3, 4]], [0, 1])


def test_default_collate_names_the_mismatched_shapes():
    with pytest.raises(RuntimeError, match=r"\(3,\) at entry 0 and \(4,\) at entry 2"):
        default_collate([tinytorch.zeros(3), tinytorch.zeros(3), tinytorch.zeros(4)])
    with pytest.raises(RuntimeError, match="equal size, got sizes \\[1, 2\\]"):
        default_collate([(1, 2), (3,)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


@pytest.mark.torch
def test_default_collate_matches_torch():
    import torch
    from torch.utils.data import default_collate as torch_collate
    samples = [({"w": np.full(2, k, np.int32), "v": float(k)}, [k, k + 1]) for k in range(3)]
    ours, theirs = default_collate(samples), torch_collate(samples)
    assert type(ours) is type(theirs) and len(ours) == len(theirs)
    for a, b in [(ours[0]["w"], theirs[0]["w"]), (ours[0]["v"], theirs[0]["v"]), (ours[1][0], theirs[1][0])]:
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        assert a.tolist() == b.tolist()
    assert isinstance(theirs[0]["w"], torch.Tensor)


# ---- the loader ------------------------------------------------------------------------------
def test_loader_batches_in_order_and_keeps_or_drops_the_tail():
    kept = list(DataLoader(Squares(5), batch_size=2))
    assert [x.tolist() for x, _ in kept] == [[0, 1], [2, 3], [4]]
    assert [y.tolist() for _, y in kept][-1] == [16]
    assert len(DataLoader(Squares(5), batch_size=2)) == 3
    assert len(list(DataLoader(Squares(5), batch_size=2, drop_last=True))) == len(DataLoader(Squares(5), batch_size=2, drop_last=True)) == 2


def test_shuffled_loader_visits_every_sample_once_per_epoch():
    tinytorch.manual_seed(0)
    loader = DataLoader(Squares(20), batch_size=6, shuffle=True)
    epochs = [flat(loader), flat(loader)]
    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(20)) and epochs[0] != epochs[1]


def test_loader_with_a_sampler():
    tinytorch.manual_seed(0)
    loader = DataLoader(Squares(4), batch_size=8, sampler=RandomSampler(Squares(4), replacement=True, num_samples=64), drop_last=True)
    batches = [x for x, _ in loader]
    assert len(loader) == len(batches) == 8 and all(x.shape == (8,) for x in batches)
    assert set(flat(loader)) <= {0, 1, 2, 3}


def test_loader_with_a_batch_sampler_and_a_collate_fn():
    loader = DataLoader(Squares(5), batch_sampler=[[4, 0], [2]], collate_fn=lambda samples: [s[1] for s in samples])
    assert list(loader) == [[16, 0], [4]]


def test_loader_without_batching_yields_samples():
    loader = DataLoader([np.arange(2), np.arange(3)], batch_size=None)
    assert [x.tolist() for x in loader] == [[0, 1], [0, 1, 2]]


def test_loader_fetches_a_batch_with_getitems_when_the_dataset_has_it():
    class Fetched(Squares):
        def __getitems__(self, indices):
            return [(-i, 0) for i in indices]

    assert [x.tolist() for x, _ in DataLoader(Fetched(3), batch_size=2)] == [[0, -1], [-2]]


def test_loader_streams_an_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(DataLoader(Stream(), batch_size=3, drop_last=True)) == 2
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


@pytest.mark.parametrize("kwargs, message", [
    (dict(shuffle=True, sampler=[0, 1]), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=4), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "mutually exclusive with drop_last"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
])
def test_loader_refuses_conflicting_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(Squares(3), **kwargs)


def test_loader_accepts_worker_options_and_loads_in_process():
    loader = DataLoader(Squares(4), batch_size=2, num_workers=4, pin_memory=True, persistent_workers=True, prefetch_factor=2)
    assert flat(loader) == [0, 1, 2, 3]


@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(), shuffle=st.booleans())
def test_loader_batches_cover_the_dataset(n, batch_size, drop_last, shuffle):
    loader = DataLoader(Squares(n), batch_size=batch_size, drop_last=drop_last, shuffle=shuffle)
    sizes = [len(x) for x, _ in loader]
    seen = flat(loader)
    full, tail = divmod(n, batch_size)
    assert sizes == [batch_size] * full + ([tail] if tail and not drop_last else [])
    assert len(loader) == len(sizes)
    assert len(set(seen)) == len(seen) and set(seen) <= set(range(n))


@pytest.mark.torch
@given(n=st.integers(1, 30), batch_size=st.integers(1, 9), drop_last=st.booleans())
def test_sequential_loader_matches_torch(n, batch_size, drop_last):
    import torch.utils.data as tud
    ours = [(x.tolist(), y.tolist()) for x, y in DataLoader(Squares(n), batch_size=batch_size, drop_last=drop_last)]
    theirs = [(x.tolist(), y.tolist()) for x, y in tud.DataLoader(Squares(n), batch_size=batch_size, drop_last=drop_last)]
    assert ours == theirs
    assert len(DataLoader(Squares(n), batch_size=batch_size, drop_last=drop_last)) == len(
        tud.DataLoader(Squares(n), batch_size=batch_size, drop_last=drop_last))


# ---- torch's indices after the same seed -------------------------------------------------------
SAMPLED = {
    "shuffled_loader": lambda m, D: [x.tolist() for _ in range(2) for x, _ in D.DataLoader(Squares(23), batch_size=5,
                                                                                          shuffle=True)],
    "shuffled_loader_with_generator": lambda m, D: [x.tolist() for _ in range(2) for x, _ in D.DataLoader(
        Squares(23), batch_size=5, shuffle=True, drop_last=True, generator=m.Generator().manual_seed(5))],
    "sequential_loader": lambda m, D: [x.tolist() for x, _ in D.DataLoader(Squares(7), batch_size=3)],
    "random_sampler_with_replacement": lambda m, D: list(D.RandomSampler(Squares(10), replacement=True,
                                                                         num_samples=70)),
    "random_sampler_num_samples": lambda m, D: list(D.RandomSampler(Squares(10), num_samples=25)),
    "random_sampler_generator": lambda m, D: list(D.RandomSampler(Squares(10), num_samples=20,
                                                                  generator=m.Generator().manual_seed(1))),
    "subset_random_sampler": lambda m, D: list(D.SubsetRandomSampler([5, 7, 9, 11, 13])),
    "weighted_random_sampler": lambda m, D: list(D.WeightedRandomSampler([0.1, 0.5, 2.0, 1.0], 12))
    + list(D.WeightedRandomSampler([0.1, 0.5, 2.0, 1.0], 3, replacement=False)),
    "random_split": lambda m, D: [list(s) for s in D.random_split(range(17), [0.5, 0.3, 0.2])]
    + [list(s) for s in D.random_split(range(10), [3, 7], generator=m.Generator().manual_seed(42))],
}


@pytest.mark.torch
@pytest.mark.parametrize("name", SAMPLED)
def test_samplers_and_loaders_give_torchs_indices(name):
    """torch's draws: a DataLoader iterator first draws its workers' base seed, a RandomSampler
    without a generator seeds a fresh one from the default generator each epoch; so after the
    same manual_seed the batches, and the default generator afterwards, are torch's."""
    import torch
    import torch.utils.data

    def indices(m, D):
        m.manual_seed(11)
        return SAMPLED[name](m, D), m.rand(2).tolist()
    assert indices(tinytorch, tinytorch.utils.data) == indices(torch, torch.utils.data)
