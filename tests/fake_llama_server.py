"""A stand-in for ``python -m llama_cpp.server`` that behaves like a llama-cpp-python build
compiled for another CPU: it lists its model, then dies of SIGILL in its first generation.
Started from a directory holding ``portable.marker`` on ``PYTHONPATH`` (what codesynth does
with the portable copy it builds), it generates instead. Accepts the real server's flags."""

from __future__ import annotations

import argparse
import json
import os
import signal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path


def portable() -> bool:
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    return any(p and (Path(p) / "portable.marker").is_file() for p in paths)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, payload: dict[str, object]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self._answer({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not portable():
            print("ggml: running the AMX matmul", flush=True)
            os.kill(os.getpid(), signal.SIGILL)
        self._answer({"id": "1", "object": "chat.completion", "created": 0, "model": "fake",
                      "choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": "OK"}}],
                      "usage": {"prompt_tokens": 3, "completion_tokens": 1,
                                "total_tokens": 4}})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args, _ = parser.parse_known_args()
    if os.environ.get("FAKE_LLAMA_IGNORE_SIGTERM"):  # as a server busy shutting down would
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    HTTPServer((args.host, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
