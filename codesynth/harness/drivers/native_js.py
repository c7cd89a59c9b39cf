# ruff: noqa: E501 - the preloaded module keeps its own line lengths
"""The module loaded before a JavaScript/TypeScript program whose test block runs in the
``native`` style (``drivers/native``): it writes the completion line at the process's exit,
under the conditions below."""

from __future__ import annotations

# JavaScript/TypeScript blocks: ``codesynth-native.js`` is loaded first (``node --require``)
# and writes the line at the process's 'exit', only when: the block's text ran to its end
# (the event the block's last line emits), the event loop drained on its own ('beforeExit':
# never after process.exit()), no exception was uncaught and no rejection unhandled, every
# promise made since the block started settled (an async test that never finished is no
# pass), no ``console.assert`` failed (HumanEval-X's JS tests use it; it only prints), and
# the exit code is 0 as node had it before any 'exit' listener of the program ran.
JS_PRELOAD = r"""'use strict';
(function codesynthNative() {
  const fs = require("fs");
  const hooks = require("async_hooks");
  const failures = [];
  const pending = new Set();
  let started = false, ended = false, drained = false;
  const fail = (what) => failures.push(String(what).replace(/[\t\n\r]/g, " ").slice(0, 2000));
  hooks.createHook({
    init(id, type) { if (started && type === "PROMISE") pending.add(id); },
    promiseResolve(id) { pending.delete(id); },
  }).enable();
  const assert = console.assert;
  console.assert = function (value, ...rest) {
    if (!value) fail("console.assert failed" + (rest.length ? ": " + rest.map(String).join(" ") : ""));
    return assert.call(this, value, ...rest);
  };
  process.on("codesynthBlockStart", () => { started = true; });
  process.on("codesynthBlockEnd", () => { ended = true; });
  process.on("uncaughtExceptionMonitor", (error) => { fail(error && error.stack || error); });
  process.on("unhandledRejection", (reason) => {
    fail("unhandled rejection: " + (reason && reason.stack || reason));
    process.stderr.write(String(reason && reason.stack || reason) + "\n");
    process.exitCode = 1;
  });
  process.on("beforeExit", () => { drained = true; });
  process.on("exit", (code) => {
    if (!ended) fail("the test block did not run to its end");
    else if (!drained) fail("the program exited before the event loop drained");
    else if (pending.size) fail(pending.size + " promise(s) never settled: an async test did not finish");
    if (code !== 0 && !failures.length) fail("exit status " + code);
    let text = failures.length ? failures.map((f) => "TEST\tblock\tfail\t" + f + "\n").join("")
      : "TEST\tblock\tok\t\n";
    if (!failures.length) text += "DONE\t" + fs.readFileSync(0, "utf8").trim() + "\t0\n";
    fs.writeSync(3, text);
    if (failures.length) process.exitCode = 1;
  });
})();
"""
JS_START = ';process.emit("codesynthBlockStart");'
JS_END = '\n;process.emit("codesynthBlockEnd");\n'
JS_PRELOAD_FILE = "codesynth-native.js"
