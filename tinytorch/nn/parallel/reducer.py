"""DDP's gradient buckets and their all-reduce, started from the parameters' post-accumulate hooks.

Buckets. The parameters that require grad, in reverse order of `module.parameters()` (roughly the
order backward finishes their gradients), are cut into buckets of at most `bucket_cap` bytes (the
first one at most 1 MiB, so that communication starts early, as torch does), one per dtype run,
each with one flat buffer.

One synchronized backward. When a parameter's gradient is complete its post-accumulate hook
copies `.grad` into the parameter's slot of its bucket's buffer; when that was the bucket's last
parameter, the bucket's asynchronous all-reduce (AVG) starts, and so does that of every full
bucket after it, strictly in bucket order: a bucket never starts before the ones before it, so
every rank issues the same collectives in the same order whatever order its backward finishes the
parameters in. Hooks that find all-reduces under way test them, which is what moves MPI forward
while backward computes (work.py). The last bucket's start ends the backward's communication: the
reducer waits for every bucket and copies each averaged slot back into its parameter's `.grad`.
With `overlap = False` no bucket starts before all are full (a benchmark's baseline).

A backward that DDP's forward did not prepare (under `no_sync()`, or with
`require_backward_grad_sync = False`) leaves `.grad` local, to accumulate until a synchronized one.
"""
import time

from ...autograd import TensorBase
from ...distributed.reduce_op import ReduceOp
from ...versions import bump

FIRST_BUCKET_BYTES = 1 << 20
UNFINISHED = ("Expected to have finished reduction in the prior iteration before starting a new one. This error "
              "indicates that your module has parameters that were not used in producing loss: pass "
              "find_unused_parameters=True to DistributedDataParallel, and make sure all forward outputs "
              "participate in calculating loss. Parameters that got no gradient: {}")


class Bucket:
    def __init__(self, backend, params):
        self.params = params
        self.offsets, total = [], 0
        for p in params:
            self.offsets.append(total)
            total += p._data.size
        self.buffer = backend.zeros(total, params[0]._data.dtype)
        self.pending, self.work = len(params), None

    def slot(self, i):
        p = self.params[i]
        return self.buffer[self.offsets[i]:self.offsets[i] + p._data.size].reshape(p._data.shape)


class Reducer:
    def __init__(self, params, backend, bucket_cap, names):
        self.params, self.backend, self.names = params, backend, names
        self.buckets = [Bucket(backend, group) for group in assign_buckets(params, bucket_cap)]
        self.where = {id(p): (b, i) for b in self.buckets for i, p in enumerate(b.params)}
        self.overlap = True
        self.comm_seconds = 0.0  # time spent starting and waiting for all-reduces, summed over backwards
        self.syncing, self.next, self.marked = False, 0, set()
        self.hooks = [p.register_post_accumulate_grad_hook(self._ready) for p in params]

    def prepare_for_backward(self, unused=()):
        """The next backward synchronizes: every bucket starts empty; `unused` parameters (not
        reached from the forward's outputs) are ready at once, with the gradient they have."""
        if self.syncing and self.marked:
            missing = [self.names[id(p)] for b in self.buckets for p in b.params if id(p) not in self.marked]
            raise RuntimeError(UNFINISHED.format(", ".join(missing)))
        self.syncing, self.next, self.marked = True, 0, set()
        for b in self.buckets:
            b.pending, b.work = len(b.params), None
        for p in unused:
            self._ready(p)

    def skip_backward(self):
        """The next backward leaves gradients local (no_sync)."""
        self.syncing = False

    def _ready(self, param):
        if not self.syncing:
            return
        if id(param) in self.marked:
            raise RuntimeError(f"Expected to mark a variable ready only once: parameter {self.names[id(param)]} "
                               "got its gradient twice in one synchronized backward (for several losses of one "
                               "forward, call backward once on their sum)")
        self.marked.add(id(param))
        bucket, i = self.where[id(param)]
        slot = bucket.slot(i)
        if param.grad is None:
            slot[...] = 0
        else:
            slot[...] = param.grad._data
        bucket.pending -= 1
        if bucket.pending == 0 and (self.overlap or all(b.pending == 0 for b in self.buckets)):
            self._start_full_buckets()
        else:
            for b in self.buckets[:self.next]:
                b.work.is_completed()

    def _start_full_buckets(self):
        t0 = time.perf_counter()
        while self.next < len(self.buckets) and self.buckets[self.next].pending == 0:
            bucket = self.buckets[self.next]
            bucket.work = self.backend.all_reduce(bucket.buffer, ReduceOp.AVG)
            self.next += 1
        self.comm_seconds += time.perf_counter() - t0
        if self.next == len(self.buckets):
            self._finish()

    def _finish(self):
        """Wait for every bucket, then write the averaged gradients into .grad."""
        t0 = time.perf_counter()
        for bucket in self.buckets:
            bucket.work.wait()
        self.comm_seconds += time.perf_counter() - t0
        for bucket in self.buckets:
            for i, p in enumerate(bucket.params):
                if p.grad is None:
                    p.grad = type(p)._wrap(bucket.slot(i).copy())
                else:
                    p.grad._data[...] = bucket.slot(i)
                    bump(p.grad._data)
        self.syncing = False

    def remove_hooks(self):
        for h in self.hooks:
            h.remove()


def assign_buckets(params, bucket_cap):
    """The parameters, reversed, cut into runs of one dtype and at most bucket_cap bytes each (the
    first at most FIRST_BUCKET_BYTES); a parameter larger than the cap gets a bucket of its own."""
    buckets, current, size, cap = [], [], 0, min(FIRST_BUCKET_BYTES, bucket_cap)
    for p in reversed(params):
        nbytes = p._data.nbytes
        if current and (size + nbytes > cap or p._data.dtype != current[0]._data.dtype):
            buckets.append(current)
            current, size, cap = [], 0, bucket_cap
        current.append(p)
        size += nbytes
    if current:
        buckets.append(current)
    return buckets


def unused_parameters(params, outputs):
    """The parameters that no tensor in `outputs` (nested tuples, lists and dicts) depends on."""
    reached, seen, todo = set(), set(), []
    for t in _tensors(outputs):
        if t._ctx is None:
            reached.add(id(t))
        else:
            todo.append(t._ctx)
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.edges:
            if type(edge) is tuple:
                todo.append(edge[0])
            elif edge is not None:
                reached.add(id(edge))
    return [p for p in params if id(p) not in reached]


def _tensors(value):
    if isinstance(value, TensorBase):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)
