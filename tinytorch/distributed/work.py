"""Work handles: what an asynchronous collective (`async_op=True`, isend, irecv) returns, as torch's.

`is_completed()` asks whether the operation has finished, without blocking; `wait()` blocks until
it has, polling `is_completed()` with a growing pause between tests (from a few microseconds to a
millisecond) rather than spinning inside MPI_Wait, which would take a core from the ranks still
computing on a small machine; past the process group's timeout it raises. Once the operation is
done, `finish` runs once (the division of an AVG, the copy of gathered pieces into their tensors).

MPI moves a nonblocking operation forward only inside MPI calls, so for `MPIWork` is_completed()
(MPI_Testall) also makes progress: DDP calls it from its gradient hooks while backward runs.
"""
import time

MIN_PAUSE, MAX_PAUSE = 2e-6, 1e-3


class Work:
    """torch.distributed's Work: wait(), is_completed(), is_success(). Subclasses say how to test."""

    def __init__(self, describe, timeout, finish=None):
        self.describe, self.timeout, self.finish = describe, timeout, finish
        self.done = False

    def _test(self):
        raise NotImplementedError

    def is_completed(self):
        if not self.done and self._test():
            self.done = True
            if self.finish is not None:
                self.finish()
                self.finish = None
        return self.done

    def is_success(self):
        return self.is_completed()

    def wait(self, timeout=None):
        """Block until the operation has finished (its results are then in the tensors). `timeout`
        (a timedelta, default the process group's) ends the wait with a RuntimeError."""
        seconds = (timeout or self.timeout).total_seconds()
        deadline = time.monotonic() + seconds
        pause = MIN_PAUSE
        while not self.is_completed():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.describe} did not finish within {seconds:g} s: another rank has stopped "
                                   "or is not calling the same collectives in the same order")
            time.sleep(pause)
            pause = min(2 * pause, MAX_PAUSE)
        return True


class MPIWork(Work):
    """The MPI requests of one operation."""

    def __init__(self, mpi, requests, describe, timeout, finish=None):
        super().__init__(describe, timeout, finish)
        self.mpi, self.requests = mpi, list(requests)
        self.statuses = [mpi.Status() for _ in self.requests]

    def _test(self):
        return self.mpi.Request.Testall(self.requests, self.statuses)

    def source(self):
        """The rank a receive got its message from (torch's `_source_rank()`)."""
        self.wait()
        return self.statuses[0].Get_source()
