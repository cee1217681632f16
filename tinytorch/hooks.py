"""`RemovableHandle`: what registering a hook returns (torch.utils.hooks.RemovableHandle).

Hooks live in plain dicts keyed by a handle id (insertion order is the order they run in); the
handle removes its hook from every dict it was added to. Usable as a context manager: the hook
is removed when the block ends.
"""
import itertools

_ids = itertools.count()


class RemovableHandle:
    """Adds `hook` to the dict `hooks` (first, with `prepend`); `remove()` takes it out again, and
    out of the `extra` dicts, which the caller keys by the same `id` (a module's with-kwargs and
    always-call flags)."""

    def __init__(self, hooks, hook, extra=(), prepend=False):
        self.id = next(_ids)
        self.hooks_dicts = [hooks, *extra]
        if prepend:
            items = list(hooks.items())
            hooks.clear()
            hooks[self.id] = hook
            hooks.update(items)
        else:
            hooks[self.id] = hook

    def remove(self):
        for hooks in self.hooks_dicts:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False
