"""versions.py: the version counter belongs to the memory, so every view shares it, and entries
go away with the memory."""
import gc

import numpy as np

from tinytorch import versions


def test_every_view_of_an_array_reads_and_bumps_one_counter():
    owner = np.zeros((4, 3))
    views = [owner[1:], owner.T, owner.reshape(-1), owner[::2, 1], owner[1:][1:]]
    before = versions.version(owner)
    versions.bump(views[3])
    assert [versions.version(v) for v in [owner] + views] == [before + 1] * (len(views) + 1)
    assert versions.storage(views[-1]) is owner


def test_a_copy_has_its_own_counter():
    owner = np.zeros(3)
    copy = owner.copy()
    versions.bump(owner)
    assert versions.version(copy) == 0


def test_the_counter_of_freed_memory_is_dropped():
    owners = [np.zeros(8) for _ in range(50)]
    keys = [id(a) for a in owners]
    for a in owners:
        versions.bump(a[2:])
    assert all(k in versions._counts for k in keys)
    del owners, a
    gc.collect()
    assert not any(k in versions._counts for k in keys)
