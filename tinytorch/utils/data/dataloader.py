"""The DataLoader: a sampler's indices, grouped into batches, fetched from a dataset and collated."""
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _batch_count, _batches, draw_seed


class DataLoader:
    """Iterate a dataset in batches: `for x, y in DataLoader(ds, batch_size=32, shuffle=True)`.

    Indices come from `sampler` (default: SequentialSampler, or RandomSampler when `shuffle`),
    are grouped by a `BatchSampler(sampler, batch_size, drop_last)` (or the given
    `batch_sampler`), fetched with `dataset[i]` (or one `dataset.__getitems__(indices)` call when
    the dataset has it) and merged by `collate_fn`. `batch_size=None` yields single samples.
    An `IterableDataset` is read in order and grouped as it streams.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be non-negative, got {num_workers}")
        self.dataset = dataset
        self.num_workers = num_workers
        self.drop_last = drop_last
        self.generator = generator
        self._streaming = isinstance(dataset, IterableDataset)
        if self._streaming:
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: shuffle, sampler and batch_sampler must be left unspecified")
        elif batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
            batch_size = None
        elif sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None and not self._streaming:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._streaming:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn or (default_collate if batch_size is not None or batch_sampler is not None
                                         else default_convert)

    def __iter__(self):
        draw_seed(self.generator)  # torch draws its workers' base seed here; drawn too, to keep torch's stream
        if self._streaming:
            samples = iter(self.dataset)
            if self.batch_size is None:
                yield from map(self.collate_fn, samples)
            else:
                yield from map(self.collate_fn, _batches(samples, self.batch_size, self.drop_last))
        elif self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
        else:
            for indices in self.batch_sampler:
                yield self.collate_fn(self._fetch(indices))

    def _fetch(self, indices):
        getitems = getattr(self.dataset, "__getitems__", None)
        return getitems(indices) if getitems else [self.dataset[i] for i in indices]

    def __len__(self):
        if self._streaming:
            n = len(self.dataset)
            return n if self.batch_size is None else _batch_count(n, self.batch_size, self.drop_last)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)
