"""The chat server (models/chat/server.py): the streaming endpoint, its input checks, and the web UI driven
in a real headless Chromium (Debian's /usr/bin/chromium) through Playwright."""
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from chat_run import make_run
from tinytorch.models.chat.chat import load_chat
from tinytorch.models.chat.server import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    engine, tokenizer = load_chat(make_run(tmp_path_factory.mktemp("run")), "rl")
    return create_app(engine, tokenizer, "rl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(app):
    import uvicorn
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)


def request(url, body=None):
    """(status, content type, text) of a GET, or of a POST of `body` as JSON."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.headers["content-type"], response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["content-type"], e.read().decode()


def events(text):
    return [json.loads(line[len("data: "):]) for line in text.split("\n\n") if line.startswith("data: ")]


def test_the_page_is_served(server):
    status, kind, page = request(server)
    assert status == 200 and kind.startswith("text/html") and 'id="input"' in page and "/chat" in page


def test_a_reply_streams_as_server_sent_events(server):
    body = {"messages": [{"role": "user", "content": "What is 17+25?"}], "max_tokens": 24, "seed": 3}
    status, kind, text = request(server + "chat", body)
    assert status == 200 and kind.startswith("text/event-stream")
    got = events(text)
    assert got[-1] == {"done": True}
    pieces = [e["token"] for e in got[:-1]]
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert events(request(server + "chat", body)[2]) == got  # the same seed, the same reply


def test_multi_turn_requests_are_accepted(server):
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                {"role": "user", "content": "What is 2+2?"}]
    assert events(request(server + "chat", {"messages": messages, "max_tokens": 8})[2])[-1] == {"done": True}


@pytest.mark.parametrize("request_body", [
    {"messages": []},
    {"messages": [{"role": "assistant", "content": "hi"}]},
    {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
    {"messages": [{"role": "system", "content": "x"}]},
    {"messages": [{"role": "user", "content": "x" * 2001}]},
    {"messages": [{"role": "user", "content": "hi"}], "temperature": 5},
    {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000},
    {"messages": [{"role": "user", "content": "hi"}], "top_k": -1},
    {"messages": [{"role": "user", "content": "hi"}] * 33},
])
def test_bad_requests_are_refused(server, request_body):
    assert request(server + "chat", request_body)[0] == 422


def test_serve_binds_localhost_by_default():
    from tinytorch.models.chat.cli import build_parser
    assert build_parser().parse_args(["serve", "--out", "x"]).host == "127.0.0.1"


@pytest.mark.browser
def test_the_web_ui_streams_an_answer_in_headless_chromium(server, tmp_path):
    from playwright.sync_api import sync_playwright
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto(server)
            # remember every length the reply's text takes while it streams in
            page.evaluate("""() => { window.lengths = [];
                new MutationObserver(() => { const r = document.querySelector('.assistant');
                    if (r) window.lengths.push(r.textContent.length); })
                .observe(document.getElementById('messages'), {childList: true, subtree: true, characterData: true}); }""")
            page.fill("#input", "What is 17+25?")
            page.click("#send")
            page.wait_for_selector(".assistant[data-done='true']", timeout=60_000)
            reply = page.inner_text(".assistant")
            page.screenshot(path=str(tmp_path / "chat_ui.png"), full_page=True)
            lengths = page.evaluate("window.lengths")
        finally:
            browser.close()
    assert page_text_ok(reply)
    assert len({n for n in lengths if n > 0}) > 1, f"the reply arrived in one piece: {lengths}"
    assert (tmp_path / "chat_ui.png").stat().st_size > 1000


def page_text_ok(reply):
    return bool(reply.strip()) and "the server answered" not in reply
