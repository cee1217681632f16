"""The chat's web server (FastAPI + uvicorn): the single-page UI and a streaming chat endpoint.

    GET  /                the web UI (ui.html)
    POST /chat            {"messages": [{"role": "user", "content": "What is 17+25?"}, ...],
                           "temperature": 0.8, "top_k": 50, "max_tokens": 64}
                          -> text/event-stream: `data: {"token": "..."}` per piece of the reply, then
                             `data: {"done": true}`
    GET  /health          {"status": "ok", "model": ...}

Messages alternate user / assistant and end with the user's; their sizes and the sampling settings
are bounded (a request outside the bounds gets 422). One model serves requests one at a time (a lock).
The server binds 127.0.0.1 unless told otherwise.
"""
import json
import threading
from pathlib import Path
from typing import List, Literal

from .chat import Conversation

UI = Path(__file__).with_name("ui.html")
MAX_MESSAGES = 32
MAX_CHARS = 2000


def create_app(engine, tokenizer, name):
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import HTMLResponse, StreamingResponse
    from pydantic import BaseModel, Field

    class Message(BaseModel):
        role: Literal["user", "assistant"]
        content: str = Field(max_length=MAX_CHARS)

    class ChatRequest(BaseModel):
        messages: List[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
        temperature: float = Field(0.8, ge=0.0, le=2.0)
        top_k: int = Field(50, ge=0, le=tokenizer.vocab_size)
        max_tokens: int = Field(64, ge=1, le=256)
        seed: int = Field(0, ge=0, le=2 ** 31 - 1)

    app = FastAPI(title="tinytorch chat")
    lock = threading.Lock()
    block_size = engine.model.config.block_size

    @app.get("/", response_class=HTMLResponse)
    def index():
        return UI.read_text(encoding="utf-8")

    @app.get("/health")
    def health():
        return {"status": "ok", "model": name}

    @app.post("/chat")
    def chat(request: ChatRequest):
        roles = [m.role for m in request.messages]
        if roles != ["user" if i % 2 == 0 else "assistant" for i in range(len(roles))] or roles[-1] != "user":
            raise HTTPException(422, "messages must alternate user/assistant, starting and ending with the user")
        conversation = Conversation(tokenizer, block_size)
        for m in request.messages:
            (conversation.add_user if m.role == "user" else conversation.add_assistant)(m.content)

        def stream():
            with lock:
                try:
                    for piece in conversation.reply(engine, request.max_tokens, request.temperature,
                                                    request.top_k or None, None, request.seed):
                        yield f"data: {json.dumps({'token': piece})}\n\n"
                except ValueError as e:
                    yield f"data: {json.dumps({'error': str(e)})}\n\n"
            yield f"data: {json.dumps({'done': True})}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    return app


def serve(engine, tokenizer, name, host="127.0.0.1", port=8000):
    import uvicorn
    uvicorn.run(create_app(engine, tokenizer, name), host=host, port=port, log_level="warning")
