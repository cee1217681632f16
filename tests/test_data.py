"""`tinytorch.data`: $TINYTORCH_DATA, then the cache, then a sha256-checked atomic download. No network here."""
import hashlib
import os
import stat
import urllib.error
from pathlib import Path

import pytest

from tinytorch import data
from tinytorch.data import DataFile

PAYLOAD = b"emma\nolivia\n"
TINY = DataFile("tiny.txt", "https://example.invalid/tiny.txt", hashlib.sha256(PAYLOAD).hexdigest(), len(PAYLOAD))
SHARED = os.environ.get("TINYTORCH_DATA")  # set by conftest.py to ../shared/data
REAL_FETCH = data.fetch  # the autouse fixture replaces data.fetch in every test


class FakeNetwork:
    """Stands in for `data.fetch`: serves fixed bytes (or raises) and records the URLs asked for."""

    def __init__(self, payload=PAYLOAD, error=None):
        self.payload, self.error, self.urls = payload, error, []

    def __call__(self, url, timeout=60):
        self.urls.append(url)
        if self.error:
            raise self.error
        return self.payload


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test: no network, a private cache, no data folder, and the `tiny.txt` entry registered."""
    monkeypatch.setattr(data, "fetch", FakeNetwork(error=AssertionError("a test tried to reach the network")))
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setitem(data.FILES, TINY.name, TINY)


def serve(monkeypatch, **kwargs):
    network = FakeNetwork(**kwargs)
    monkeypatch.setattr(data, "fetch", network)
    return network


def folder_with_tiny(path):
    path.mkdir()
    (path / TINY.name).write_bytes(PAYLOAD)
    return path


# ---- the registry and the shared data folder ----

needs_shared = pytest.mark.skipif(
    not SHARED, reason="TINYTORCH_DATA is not set (tests/conftest.py sets it when ../shared/data exists)")


@needs_shared
@pytest.mark.parametrize("name", list(data.FILES))  # collected before the fixture registers tiny.txt
def test_registered_sha256_and_size_match_the_shared_files(name):
    content = (Path(SHARED) / name).read_bytes()
    assert (hashlib.sha256(content).hexdigest(), len(content)) == (data.FILES[name].sha256, data.FILES[name].size)


def test_registry_uses_canonical_public_urls():
    hosts = ("https://raw.githubusercontent.com/", "https://openaipublic.blob.core.windows.net/")
    assert all(file.url.startswith(hosts) for file in data.FILES.values() if file is not TINY)


@needs_shared
def test_read_text_reads_names_and_decompresses_bz2(monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, SHARED)
    names = data.read_text("names.txt").split("\n")
    assert len(names) == 32033 and names[:3] == ["emma", "olivia", "ava"]
    hellaswag = data.read_text("hellaswag_val_full.txt.bz2").split("\n")
    assert len(hellaswag) >= 6 * 10042 and hellaswag[1] in {"0", "1", "2", "3"}


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown data file 'nope\.txt'; known: names\.txt, tinyshakespeare\.txt"):
        data.get_path("nope.txt")


# ---- resolution order ----

def test_data_folder_comes_first(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(folder_with_tiny(tmp_path / "data")))
    folder_with_tiny(tmp_path / "cache")
    assert data.get_path(TINY.name) == tmp_path / "data" / TINY.name


def test_cache_is_used_when_the_data_folder_lacks_the_file(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "data"))
    folder_with_tiny(tmp_path / "cache")
    assert data.get_path(TINY.name) == tmp_path / "cache" / TINY.name


def test_default_cache_is_under_home(tmp_path, monkeypatch):
    monkeypatch.delenv(data.CACHE_ENV)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.cache_dir() == tmp_path / ".cache" / "tinytorch"


def test_read_only_data_folder_works_and_nothing_is_written(tmp_path, monkeypatch):
    folder = folder_with_tiny(tmp_path / "data")
    (folder / TINY.name).chmod(stat.S_IRUSR)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        monkeypatch.setenv(data.DATA_ENV, str(folder))
        assert data.read_text(TINY.name) == PAYLOAD.decode()
        assert [p.name for p in folder.iterdir()] == [TINY.name]
        assert not (tmp_path / "cache").exists()
    finally:
        folder.chmod(stat.S_IRWXU)


# ---- download ----

def test_download_writes_the_file_into_the_cache_once(tmp_path, monkeypatch):
    network = serve(monkeypatch)
    path = data.get_path(TINY.name)
    assert path == tmp_path / "cache" / TINY.name and path.read_bytes() == PAYLOAD
    assert data.get_path(TINY.name) == path
    assert network.urls == [TINY.url]
    assert [p.name for p in path.parent.iterdir()] == [TINY.name]


def test_sha256_mismatch_raises_and_writes_nothing(tmp_path, monkeypatch):
    serve(monkeypatch, payload=b"tampered\n")
    with pytest.raises(ValueError) as error:
        data.get_path(TINY.name)
    message = str(error.value)
    assert TINY.name in message and TINY.url in message and TINY.sha256 in message
    assert hashlib.sha256(b"tampered\n").hexdigest() in message
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch, failing):
    serve(monkeypatch)

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(data.os, failing, disk_full)
    with pytest.raises(OSError, match=rf"cannot write tiny\.txt into the cache {tmp_path / 'cache'}.*TINYTORCH_CACHE"):
        data.get_path(TINY.name)
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize("with_data_folder", [False, True])
def test_offline_error_names_the_file_the_folders_and_the_env_var(tmp_path, monkeypatch, with_data_folder):
    if with_data_folder:
        (tmp_path / "data").mkdir()
        monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "data"))
    serve(monkeypatch, error=urllib.error.URLError("no network"))
    with pytest.raises(FileNotFoundError) as error:
        data.get_path(TINY.name)
    message = str(error.value)
    assert TINY.name in message and str(tmp_path / "cache") in message and "TINYTORCH_DATA" in message
    assert "no network" in message and TINY.url in message
    assert (str(tmp_path / "data") in message) == with_data_folder
    assert ("TINYTORCH_DATA is not set" in message) == (not with_data_folder)


def test_fetch_reads_the_url_with_a_timeout(monkeypatch):
    opened = []

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return PAYLOAD

    def urlopen(url, timeout):
        opened.append((url, timeout))
        return Response()

    monkeypatch.setattr(data.urllib.request, "urlopen", urlopen)
    assert REAL_FETCH(TINY.url) == PAYLOAD and opened == [(TINY.url, 60)]


# ---- local files are checked against their sha256 ----

@needs_shared
def test_a_truncated_file_in_the_data_folder_is_refused_naming_it_both_hashes_and_the_fix(tmp_path, monkeypatch):
    from tinytorch.tokenizers import GPT4Tokenizer
    good = Path(SHARED) / "cl100k_base.tiktoken"
    folder = tmp_path / "data"
    folder.mkdir()
    truncated = good.read_bytes()[:len(good.read_bytes()) // 2]
    (folder / good.name).write_bytes(truncated)
    monkeypatch.setenv(data.DATA_ENV, str(folder))
    with pytest.raises(ValueError) as error:
        GPT4Tokenizer()
    message = str(error.value)
    assert str(folder / good.name) in message and data.FILES[good.name].sha256 in message
    assert hashlib.sha256(truncated).hexdigest() in message
    assert "replace it with the original from https://openaipublic" in message


def test_a_damaged_file_in_the_cache_is_refused_and_says_to_delete_it(tmp_path):
    folder_with_tiny(tmp_path / "cache")
    (tmp_path / "cache" / TINY.name).write_bytes(b"emma\nolivi")
    with pytest.raises(ValueError, match=r"cache/tiny\.txt is damaged.*delete it and it is downloaded again"):
        data.get_path(TINY.name)


def test_the_check_is_made_once_per_file_version(tmp_path, monkeypatch):
    folder = folder_with_tiny(tmp_path / "data")
    monkeypatch.setenv(data.DATA_ENV, str(folder))
    hashed = []
    real_sha256 = hashlib.sha256
    monkeypatch.setattr(data.hashlib, "sha256", lambda *a: hashed.append(1) or real_sha256(*a))
    for _ in range(3):
        data.get_path(TINY.name)
    assert len(hashed) == 1
    (folder / TINY.name).write_bytes(b"emma\nolivia\nava\n")  # a new size (and mtime): checked again
    with pytest.raises(ValueError, match="damaged"):
        data.get_path(TINY.name)
