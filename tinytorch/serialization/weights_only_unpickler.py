"""A pickle reader with torch's `weights_only` rules: it never imports a module and never calls
anything that is not on the allow-list.

A pickle is a program for a small stack machine: opcodes push numbers, strings and containers,
and a few reach code. Python's own unpickler runs whatever the program names, so `GLOBAL posix
system` followed by `REDUCE` runs a shell command. This reader interprets the opcodes itself and
restricts the ones that reach code, as torch's weights-only unpickler does:

- GLOBAL / STACK_GLOBAL look the name up in `allow_list` (torch's default allow-list as tinytorch
  objects, then the user's `add_safe_globals`) and never import; any other name is an error
  naming it and the file.
- REDUCE and NEWOBJ call only objects that came from that lookup.
- BUILD sets state only on OrderedDicts, Counters and instances of allowed classes, and never
  dunder attributes.
- APPEND(S) extends only lists, SETITEM(S) fills only dicts, ADDITEMS only sets.
- BINPERSID accepts only ('storage', ...) ids, which the file format's `persistent_load` resolves.

The rest is data: numbers, strings, bytes, tuples, lists, dicts, sets and the memo, in the
binary opcodes of protocols 2 to 5 (torch writes protocol 2). Anything else (INST, OBJ, the
extension registry, out-of-band buffers, protocol 0's text opcodes) is refused.
"""
import pickle
import struct
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections import Counter, OrderedDict

from .. import dtypes
from ..tensor import Tensor
from .allow_list import BLOCKED_MODULES, TORCH_GLOBALS, user_globals
from .storages import set_state

DICT_TYPES = (dict, OrderedDict, Counter)
LOADABLE = ", ".join(d.name for d in dtypes.ALL)


class UnpicklingError(pickle.UnpicklingError, RuntimeError):
    """A weights-only load refused or could not read a pickle: torch's error class for this
    (pickle.UnpicklingError), and a RuntimeError like every file tinytorch cannot load."""


class Unpickler:
    """`Unpickler(file, source, persistent_load).load()` reads one pickle from the binary file
    object `file` (and no further); `source` names the file in errors."""

    def __init__(self, file, source, persistent_load=None):
        self.file = file
        self.source = source
        self.persistent_load = persistent_load
        here = file.tell()
        self.remaining = file.seek(0, 2) - here  # lengths in the pickle are checked against it
        file.seek(here)

    def load(self):
        self.stack, self.metastack, self.memo = [], [], {}
        self.allowed = {}  # id -> object, for everything a GLOBAL was answered with
        self.user_globals = user_globals()
        try:
            while True:
                opcode = self.read(1)[0]
                if opcode == pickle.STOP[0]:
                    return self.stack.pop()
                if opcode not in DISPATCH:
                    raise UnpicklingError(f"tinytorch.load: '{self.source}' holds the pickle opcode "
                                          f"{bytes([opcode])!r}, which a weights-only load does not run")
                DISPATCH[opcode](self)
        except UnpicklingError:
            raise
        except EOFError:
            raise UnpicklingError(f"tinytorch.load: '{self.source}' is truncated or not a checkpoint "
                                  "(its pickle ends early)") from None
        except (IndexError, KeyError, struct.error, UnicodeDecodeError) as e:
            raise UnpicklingError(f"tinytorch.load: '{self.source}' holds a malformed pickle "
                                  f"({type(e).__name__}: {e})") from None
        except Exception as e:
            raise UnpicklingError(f"tinytorch.load: cannot load '{self.source}': {e}") from e

    # ---- reading ---------------------------------------------------------------------------------
    def read(self, n):
        if n > self.remaining:
            raise EOFError
        data = self.file.read(n)
        if len(data) < n:
            raise EOFError
        self.remaining -= n
        return data

    def read_line(self):
        line = self.file.readline(min(self.remaining, 1 << 16))
        if not line.endswith(b"\n"):
            raise EOFError
        self.remaining -= len(line)
        return line[:-1].decode("utf-8")

    def unpack(self, fmt):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def push(self, value):
        self.stack.append(value)

    def pop_mark(self):
        items, self.stack = self.stack, self.metastack.pop()
        return items

    # ---- names and calls -------------------------------------------------------------------------
    def push_global(self, module, name):
        if not (isinstance(module, str) and isinstance(name, str)):
            raise UnpicklingError(f"tinytorch.load: '{self.source}' names a global with non-strings")
        if (module, name) in NAME_MAPPING:  # Python 2 spellings, as torch accepts them
            module, name = NAME_MAPPING[(module, name)]
        module = IMPORT_MAPPING.get(module, module)
        obj = self.lookup(module, name)
        self.allowed[id(obj)] = obj
        self.push(obj)

    def lookup(self, module, name):
        full = f"{module}.{name}"
        failed = f"Weights only load failed: '{self.source}' uses GLOBAL {full}"
        if module in BLOCKED_MODULES:
            raise UnpicklingError(f"{failed}, whose module {module} is blocked: tinytorch.load never imports "
                                  "or calls it, even after add_safe_globals")
        if full in TORCH_GLOBALS:
            return TORCH_GLOBALS[full]
        if full in self.user_globals:
            return self.user_globals[full]
        if module == "torch" or module.startswith("torch."):
            raise UnpicklingError(f"{failed}, a torch feature that tinytorch cannot load (it loads dense "
                                  f"tensors of {LOADABLE}, parameters, torch.Size, devices and dtypes)")
        raise UnpicklingError(
            f"{failed}, which is not an allowed global: tinytorch.load never runs code from a file, so it "
            "builds only tensors, containers and the types on its weights-only allow-list. If you trust this "
            f"file and {full} is a class of yours, allow it first with "
            f"tinytorch.serialization.add_safe_globals([{name}])")

    def check_allowed(self, obj, use):
        if self.allowed.get(id(obj)) is not obj:
            raise UnpicklingError(f"Weights only load failed: '{self.source}' would {use} {obj!r}, which "
                                  "is not a global from the allow-list")

    def reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        self.check_allowed(func, "call")
        if type(args) is not tuple:
            raise UnpicklingError(f"tinytorch.load: '{self.source}' calls {func!r} with non-tuple arguments")
        self.stack[-1] = func(*args)

    def newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self.check_allowed(cls, "instantiate")
        if not isinstance(cls, type) or type(args) is not tuple:
            raise UnpicklingError(f"tinytorch.load: '{self.source}' instantiates {cls!r} wrongly (NEWOBJ)")
        self.push(cls(*args) if issubclass(cls, Tensor) else cls.__new__(cls, *args))

    def build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        kind = type(inst)
        if isinstance(inst, Tensor) or not (kind in (OrderedDict, Counter) or self.allowed.get(id(kind)) is kind):
            raise UnpicklingError(f"Weights only load failed: '{self.source}' sets the state of a "
                                  f"{kind.__name__}; only OrderedDicts, Counters and instances of allowed "
                                  "classes can have their state set")
        setstate = getattr(inst, "__setstate__", None)
        if setstate is not None:
            setstate(state)
        else:
            set_state(inst, state)

    def persistent_id(self):
        pid = self.stack.pop()
        if self.persistent_load is None or not (
                type(pid) is tuple and pid and pid[0] in ("storage", b"storage")):
            raise UnpicklingError(f"Weights only load failed: '{self.source}' holds the persistent id {pid!r}; "
                                  "only storages are allowed here")
        self.push(self.persistent_load(pid))

    # ---- containers and the memo -----------------------------------------------------------------
    def target(self, kinds, verb):
        """The container on top of the stack, which must be of one of `kinds`."""
        container = self.stack[-1]
        if type(container) not in kinds:
            raise UnpicklingError(f"Weights only load failed: '{self.source}' would {verb} a "
                                  f"{type(container).__name__}")
        return container

    def mark(self):
        self.metastack.append(self.stack)
        self.stack = []

    def tuple_of(self, n):
        if len(self.stack) < n:
            raise IndexError("a tuple needs more items than the stack holds")
        items = tuple(self.stack[len(self.stack) - n:])
        del self.stack[len(self.stack) - n:]
        self.push(items)

    def append(self):
        item = self.stack.pop()
        self.target((list,), "append to").append(item)

    def appends(self):
        items = self.pop_mark()
        self.target((list,), "append to").extend(items)

    def setitem(self):
        value, key = self.stack.pop(), self.stack.pop()
        self.target(DICT_TYPES, "set items of")[key] = value

    def setitems(self):
        items = self.pop_mark()
        target = self.target(DICT_TYPES, "set items of")
        for key, value in zip(items[::2], items[1::2]):
            target[key] = value

    def additems(self):
        items = self.pop_mark()
        self.target((set,), "add items to").update(items)

    def stack_global(self):
        name, module = self.stack.pop(), self.stack.pop()
        self.push_global(module, name)

    def memo_put(self, index):
        self.memo[index] = self.stack[-1]

    def proto(self):
        version = self.read(1)[0]
        if version > pickle.HIGHEST_PROTOCOL:
            raise UnpicklingError(f"tinytorch.load: '{self.source}' uses pickle protocol {version}, "
                                  f"newer than Python's {pickle.HIGHEST_PROTOCOL}")


def _sized(fmt, decode):
    """A handler that reads a length in `fmt`, then that many bytes, and pushes decode(bytes)."""
    return lambda u: u.push(decode(u.read(u.unpack(fmt))))


def _long(data):
    return int.from_bytes(data, "little", signed=True)


def _text(data):
    return data.decode("utf-8", "surrogatepass")


P = pickle
DISPATCH = {op[0]: handler for op, handler in {
    P.PROTO: Unpickler.proto,
    P.FRAME: lambda u: u.read(8),  # protocol 4 frames only group opcodes
    P.MARK: Unpickler.mark,
    P.GLOBAL: lambda u: u.push_global(u.read_line(), u.read_line()),
    P.STACK_GLOBAL: Unpickler.stack_global,
    P.REDUCE: Unpickler.reduce,
    P.NEWOBJ: Unpickler.newobj,
    P.BUILD: Unpickler.build,
    P.BINPERSID: Unpickler.persistent_id,
    P.NONE: lambda u: u.push(None),
    P.NEWTRUE: lambda u: u.push(True),
    P.NEWFALSE: lambda u: u.push(False),
    P.BININT: lambda u: u.push(u.unpack("<i")),
    P.BININT1: lambda u: u.push(u.read(1)[0]),
    P.BININT2: lambda u: u.push(u.unpack("<H")),
    P.LONG1: _sized("<B", _long),
    P.LONG4: _sized("<I", _long),
    P.BINFLOAT: lambda u: u.push(u.unpack(">d")),
    P.BINUNICODE: _sized("<I", _text),
    P.SHORT_BINUNICODE: _sized("<B", _text),
    P.BINUNICODE8: _sized("<Q", _text),
    P.BINSTRING: _sized("<I", _text),  # Python 2 str, read as UTF-8 as torch.load does
    P.SHORT_BINSTRING: _sized("<B", _text),
    P.BINBYTES: _sized("<I", bytes),
    P.SHORT_BINBYTES: _sized("<B", bytes),
    P.BINBYTES8: _sized("<Q", bytes),
    P.EMPTY_TUPLE: lambda u: u.push(()),
    P.TUPLE: lambda u: u.push(tuple(u.pop_mark())),
    P.TUPLE1: lambda u: u.tuple_of(1),
    P.TUPLE2: lambda u: u.tuple_of(2),
    P.TUPLE3: lambda u: u.tuple_of(3),
    P.EMPTY_LIST: lambda u: u.push([]),
    P.APPEND: Unpickler.append,
    P.APPENDS: Unpickler.appends,
    P.EMPTY_DICT: lambda u: u.push({}),
    P.SETITEM: Unpickler.setitem,
    P.SETITEMS: Unpickler.setitems,
    P.EMPTY_SET: lambda u: u.push(set()),
    P.ADDITEMS: Unpickler.additems,
    P.BINPUT: lambda u: u.memo_put(u.read(1)[0]),
    P.LONG_BINPUT: lambda u: u.memo_put(u.unpack("<I")),
    P.MEMOIZE: lambda u: u.memo_put(len(u.memo)),
    P.BINGET: lambda u: u.push(u.memo[u.read(1)[0]]),
    P.LONG_BINGET: lambda u: u.push(u.memo[u.unpack("<I")]),
}.items()}
