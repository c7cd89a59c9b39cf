"""``codesynth serve``: the sandbox's verdicts over HTTP, for training loops and other tools.

One warm sandbox per server (:mod:`~codesynth.serve.dispatch` feeds it from a bounded queue),
an aiohttp application (:mod:`~codesynth.serve.app`) with the native API (``/v1/verify``,
``/v1/reward``), SandboxFusion's ``/run_code`` and open-r1's ``/execute_batch``
(:mod:`~codesynth.serve.compat`), Prometheus metrics and graceful shutdown
(:mod:`~codesynth.serve.server`). The client side is :mod:`codesynth.client` and
:mod:`codesynth.rewards`.
"""
