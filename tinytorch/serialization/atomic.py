"""Atomic writes: every file tinytorch writes (checkpoints, metrics, plots, tokenizer files, downloads)
goes to a temporary file next to its target (`.NAME.PID.RANDOM.tmp`), is flushed to disk (fsync),
then renamed over the target, so a crash leaves the old file intact and never a half-written one.

The temporary file is created with mode 0666 minus the umask (what `open(path, "w")` gives), and that
mode is kept whatever the writer does to it, so the target gets the user's usual permissions. A process
killed midway leaves its temporary file behind; `remove_leftovers(folder)` deletes those of processes
that are gone (a run calls it when it starts).
"""
import contextlib
import os
import re
import uuid

_LEFTOVER = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$")


@contextlib.contextmanager
def replacing(path):
    """Yields a temporary path next to `path`. When the block succeeds, the file written there is
    fsynced and renamed over `path`, and the folder fsynced; when it fails, the file is removed."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    mode = os.stat(tmp).st_mode & 0o777  # 0666 minus the umask
    try:
        yield tmp
        os.chmod(tmp, mode)  # in case the writer replaced the file with one of another mode
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync(folder)


def write_bytes(path, data):
    """Write `data` to `path` atomically."""
    with replacing(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_text(path, text):
    """Write `text` to `path` atomically, as UTF-8 with "\\n" line ends."""
    write_bytes(path, text.encode("utf-8"))


def remove_leftovers(folder):
    """Delete the temporary files that killed writers left in `folder` (those whose process is gone);
    returns their names."""
    removed = []
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return removed
    for name in sorted(names):
        match = _LEFTOVER.match(name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, name))
                removed.append(name)
    return removed


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
