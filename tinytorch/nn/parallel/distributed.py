"""DistributedDataParallel: one replica of the module per process, gradients averaged over them.

At construction rank 0's parameters and buffers are broadcast to every rank, so all replicas
start equal; with `broadcast_buffers`, a forward after a synchronized one broadcasts the buffers again. A backward after
a forward in grad mode averages the gradients across ranks into `.grad`, overlapping the
all-reduce with the rest of backward (reducer.py), so the optimizer steps every replica the same
way. For gradient accumulation, forwards under `no_sync()` (or with
`require_backward_grad_sync = False`, build-nanogpt's way) keep their gradients local; the next
synchronized backward averages what has accumulated.

`module` is the wrapped module: save `ddp.module.state_dict()` for a plain checkpoint; DDP's own
state_dict has torch's `module.` prefix on every key. Of torch's other arguments, `output_device`,
`dim`, `check_reduction`, `gradient_as_bucket_view` and `static_graph` are accepted for scripts that
pass them and change nothing here (gradients are copied into the buckets and back).
"""
import contextlib

from ...autograd import is_grad_enabled, no_grad
from ...distributed import broadcast
from ...distributed.process_group import group_of
from ..module import Module
from .reducer import Reducer, unused_parameters

DEFAULT_BUCKET_CAP_MB = 25


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        backend = group_of(process_group)
        params = [p for p in module.parameters() if p.requires_grad]
        if device_ids is not None and any(p.device.type == "cpu" for p in params):
            raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                             f"single-device/multiple-device GPU modules, but got device_ids {device_ids} for a "
                             "module on the CPU: leave device_ids out")
        self.module = module
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        if init_sync:
            self._broadcast(list(module.parameters()) + list(module.buffers()))
        names = {id(p): name for name, p in module.named_parameters()}
        cap = int((DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb) * 2 ** 20)
        self.reducer = Reducer(params, backend, cap, names)

    def _broadcast(self, tensors):
        with no_grad():
            for t in tensors:
                broadcast(t, 0, group=self.process_group)

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.require_forward_param_sync:
            self._broadcast(list(self.module.buffers()))
        outputs = self.module(*inputs, **kwargs)
        self.require_forward_param_sync = is_grad_enabled() and self.require_backward_grad_sync
        if self.require_forward_param_sync:  # the buffers are broadcast again before the next forward
            unused = unused_parameters(self.reducer.params, outputs) if self.find_unused_parameters else ()
            self.reducer.prepare_for_backward(unused)
        else:
            self.reducer.skip_backward()
        return outputs

    @contextlib.contextmanager
    def no_sync(self):
        """Backwards after forwards inside this block keep their gradients local (they accumulate)."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old
