"""The weights-only unpickler: data opcodes of protocols 2-5 read as Python's pickle reads them;
every opcode that reaches code is held to the allow-list; nothing is imported or called outside it;
malformed and truncated pickles give one clear error naming the file."""
import collections
import io
import os
import pickle
import struct
import sys

import pytest

from tinytorch.serialization.weights_only_unpickler import Unpickler, UnpicklingError

DATA = [0, -1, 255, 65536, -2 ** 31, 2 ** 31, 2 ** 100, -(2 ** 2100), 1.5, float("inf"), "", "text ✓ \udcff", b"",
        b"\x00bytes", None, True, False, (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], list(range(2500)),
        {}, {i: str(i) for i in range(1200)}, {"nested": [{"a": (1, [2])}]}, {1, 2, 3}, set(),
        collections.OrderedDict(a=1, b=[2]), collections.Counter("abracadabra"), 1 + 2j, bytearray(b"ab")]


def load(data, persistent_load=None, source="test.pkl"):
    return Unpickler(io.BytesIO(data), source, persistent_load).load()


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_data_reads_as_pythons_unpickler_reads_it(protocol):
    # left out: protocol 2 pickles b"" as builtins.bytes(), which torch's allow-list lacks too, and
    # protocol 5 a bytearray with an out-of-band buffer opcode
    data = [x for x in DATA if not (protocol == 2 and x == b"" or protocol == 5 and isinstance(x, bytearray))]
    pickled = pickle.dumps(data, protocol=protocol)
    assert load(pickled) == pickle.loads(pickled)


def test_shared_and_self_referencing_objects_keep_their_identity():
    shared = [1]
    loop = [shared, shared]
    loop.append(loop)
    loaded = load(pickle.dumps(loop, protocol=2))
    assert loaded[0] is loaded[1] and loaded[2] is loaded


class Evil:
    """Unpickling it runs `action` (a real payload: the test checks that it works)."""

    def __init__(self, action):
        self.action = action

    def __reduce__(self):
        return self.action


def payloads(marker):
    """Pickles that create the file `marker` when Python's pickle.loads reads them."""
    return {
        "os.system": pickle.dumps(Evil((os.system, (f"touch {marker}",))), protocol=2),
        "builtins.open": pickle.dumps(Evil((open, (str(marker), "w"))), protocol=2),
        "builtins.eval": pickle.dumps(Evil((eval, (f"open({str(marker)!r}, 'w')",))), protocol=4),
        "builtins.exec": pickle.dumps(Evil((exec, (f"open({str(marker)!r}, 'w')",))), protocol=2),
        "subprocess.call": pickle.dumps(Evil((__import__("subprocess").call, (["touch", str(marker)],))),
                                        protocol=2),
    }


def test_the_payloads_are_real(tmp_path):
    for name, data in payloads(tmp_path / "marker").items():
        pickle.loads(data)
        assert (tmp_path / "marker").exists(), name
        (tmp_path / "marker").unlink()


@pytest.mark.parametrize("name", ["os.system", "builtins.open", "builtins.eval", "builtins.exec", "subprocess.call"])
def test_a_forbidden_global_is_refused_naming_it_and_the_file(tmp_path, name):
    data = payloads(tmp_path / "marker")[name]
    with pytest.raises(UnpicklingError, match=r"Weights only load failed: 'evil.pt' uses GLOBAL (posix|os|builtins|io|"
                                              r"subprocess)\.(system|open|eval|exec|call)"):
        load(data, source="evil.pt")
    assert not (tmp_path / "marker").exists()
    with pytest.raises(pickle.UnpicklingError):  # torch's error class, and a RuntimeError
        load(data)
    with pytest.raises(RuntimeError):
        load(data)


def test_names_are_never_imported():
    for module in ("antigravity", "this", "tinytorch_no_such_module"):
        assert module not in sys.modules
        with pytest.raises(UnpicklingError, match=f"GLOBAL {module}.x, which is not an allowed global"):
            load(b"\x80\x02c" + module.encode() + b"\nx\n.")
        assert module not in sys.modules


def test_latin1_is_the_only_codec_so_no_codec_module_is_imported():
    assert load(pickle.dumps(b"\xffbytes", protocol=2)) == b"\xffbytes"
    rot13 = b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00rot13\x86R."
    before = set(sys.modules)
    with pytest.raises(UnpicklingError, match="only as encode\\(str, 'latin1'\\)"):
        load(rot13)
    assert set(sys.modules) == before


def pickle_program(*ops):
    return b"\x80\x02" + b"".join(ops) + b"."


def binunicode(text):
    return b"X" + struct.pack("<I", len(text)) + text.encode()


COLLECTIONS_ORDEREDDICT = b"ccollections\nOrderedDict\n"


@pytest.mark.parametrize("program, problem", [
    (pickle_program(b"]", b")", b"R"), "would call \\[\\], which is not a global from the allow-list"),
    (pickle_program(b"}", b"}", b"b"), "sets the state of a dict"),
    (pickle_program(COLLECTIONS_ORDEREDDICT, b")R", b"}", binunicode("__class__"), b"N", b"s", b"b"),
     "not dunder names"),
    (pickle_program(b"}", b"K\x01", b"a"), "would append to a dict"),
    (pickle_program(b"]", b"K\x01K\x02", b"s"), "would set items of a list"),
    (pickle_program(b"(", binunicode("module"), b"t", b"Q"), "only storages are allowed"),
    (pickle_program(b"(", binunicode("storage"), b"t", b"Q"), "only storages are allowed"),  # no persistent_load here
    (pickle_program(COLLECTIONS_ORDEREDDICT, b"(", b"S'x'\n", b"t", b"R"), "opcode b'S'"),
    (pickle_program(COLLECTIONS_ORDEREDDICT, b")", b"\x81", b"K\x01", b"b"), "dict of attribute"),
    (b"\x80\x02i__main__\nEvil\n.", "opcode b'i'"),
    (b"\x80\x02\x82\x01.", "opcode b'\\\\x82'"),
    (b"\x80\x02h\x05.", "malformed pickle"),
    (b"\x80\x02R.", "malformed pickle"),
    (b"\x80\x02X\x05\x00\x00\x00ab", "truncated"),
    (b"\x80\x02\x8d" + struct.pack("<Q", 1 << 60) + b"abc.", "truncated"),
    (b"\x80\x02]", "truncated"),
], ids=["reduce a list", "build a dict", "build __class__", "append to a dict", "setitem on a list",
        "module persistent id", "storage without a reader", "protocol 0 string", "build a non-dict state",
        "INST", "EXT1", "missing memo", "empty stack", "short string", "huge length", "no STOP"])
def test_opcodes_that_reach_code_are_held_to_the_rules(program, problem):
    with pytest.raises(UnpicklingError, match=rf"'test.pkl'.*{problem}|{problem}.*'test.pkl'"):
        load(program)


def test_persistent_ids_go_to_the_format_reader():
    seen = []
    program = pickle_program(b"(", binunicode("storage"), b"K\x07", b"\x86", b"Q")
    assert load(program, persistent_load=lambda pid: seen.append(pid) or "a storage") == "a storage"
    assert seen == [("storage", 7)]
