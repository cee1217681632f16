"""Atomic writes: a checkpoint is written next to its target under a temporary name
(`.NAME.PID.RANDOM.tmp`), flushed to disk (fsync), then renamed over the target, so a crash
leaves the old checkpoint intact (and at worst a stray temporary file, which is never read)."""
import contextlib
import os
import uuid


@contextlib.contextmanager
def replacing(path):
    """Yields a temporary path next to `path`. When the block succeeds, the file written there is
    fsynced and renamed over `path`, and the folder fsynced; when it fails, the file is removed."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync(folder)


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
