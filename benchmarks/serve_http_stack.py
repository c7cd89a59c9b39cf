"""Why ``codesynth serve`` is on aiohttp: the same JSON echo endpoint on aiohttp and on
starlette + uvicorn (both installed here), one after the other in the same run.

Per stack: a server subprocess on loopback, one closed-loop client sending ``--requests``
POSTs of a HumanEval-sized record; the client's p50/p99 latency and the server process's CPU
time per request (on a 2-core machine the server's CPU is taken from the sandbox's workers).

    python benchmarks/serve_http_stack.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import textwrap
import time

AIOHTTP = """
from aiohttp import web
async def echo(request):
    body = await request.json()
    return web.json_response({"records": [body], "ok": True})
app = web.Application()
app.router.add_post("/v1/verify", echo)
web.run_app(app, host="127.0.0.1", port=PORT, access_log=None, print=None)
"""
STARLETTE = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def echo(request):
    body = await request.json()
    return JSONResponse({"records": [body], "ok": True})
app = Starlette(routes=[Route("/v1/verify", echo, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", access_log=False)
"""
RECORD = {"id": "HumanEval/0", "code": "def f(x):\n    return x\n" * 30,
          "tests": "def check(c):\n    assert c(1) == 1\n" * 10, "test_style": "humaneval",
          "entry_point": "f"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(source: str, requests: int) -> tuple[float, float, float, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(source).replace(
        "PORT", str(port))])
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = json.dumps(RECORD).encode()
        headers = {"Content-Type": "application/json"}
        for _ in range(50):  # warm-up
            connection.request("POST", "/v1/verify", body, headers)
            connection.getresponse().read()
        cpu = cpu_seconds(process.pid)
        latencies = []
        for _ in range(requests):
            start = time.perf_counter()
            connection.request("POST", "/v1/verify", body, headers)
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - start)
        cpu = cpu_seconds(process.pid) - cpu
        server = response.getheader("Server") or ""
        connection.close()
    finally:
        process.terminate()
        process.wait(10)
    latencies.sort()
    return (statistics.median(latencies), latencies[int(0.99 * len(latencies))],
            cpu / requests, server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    print(f"{args.requests} POSTs of a {len(json.dumps(RECORD))}-byte record, one client, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'stack':<20} {'p50 ms':>7} {'p99 ms':>7} {'server CPU ms/request':>22}")
    for name, source in (("aiohttp", AIOHTTP), ("starlette + uvicorn", STARLETTE)):
        p50, p99, cpu, _ = measure(source, args.requests)
        print(f"{name:<20} {1000 * p50:>7.3f} {1000 * p99:>7.3f} {1000 * cpu:>22.3f}")


if __name__ == "__main__":
    main()
