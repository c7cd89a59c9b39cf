# ruff: noqa: E501 - the Go template keeps gofmt's line lengths
"""Go's ``TestMain`` for a test block in the ``native`` style (``drivers/native``)."""

from __future__ import annotations

import re
import secrets

from codesynth.harness.drivers import Unrenderable

# TestMain sets the test flags itself (each ``test.*`` flag back to its default, then a fixed
# list), so nothing the program's init() did to os.Args or the flags selects the tests; the
# block's tests (names read from the block by the judge) run as subtests of one wrapper test
# whose name is random per job, and each one's outcome is recorded in memory when it and
# its subtests have ended, with its duration (so printed text gives only failure messages).
# A test of the block that did not run, failed or skipped is a failure (the record, never
# printed text).
_GO_MAIN = """package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var codesynthMuTOKEN sync.Mutex
var codesynthOutcomesTOKEN = map[string]string{}
var codesynthSecondsTOKEN = map[string]float64{}

func TestCodesynthTOKEN(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func(*testing.T)
	}{CODESYNTH_TESTS} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			finished := false
			start := time.Now()
			// after the test AND its subtests (t.Parallel ones included) are over
			t.Cleanup(func() {
				outcome := "ok"
				switch {
				case t.Failed():
					outcome = "fail"
				case t.Skipped():
					outcome = "skip"
				case !finished:
					outcome = "fail"
				}
				codesynthMuTOKEN.Lock()
				codesynthOutcomesTOKEN[c.name] = outcome
				codesynthSecondsTOKEN[c.name] = time.Since(start).Seconds()
				codesynthMuTOKEN.Unlock()
			})
			c.f(t)
			finished = true
		})
	}
}

func TestMain(m *testing.M) {
	flag.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "test.") {
			_ = f.Value.Set(f.DefValue)
		}
	})
	args := []string{"-test.v", "-test.paniconexit0", "-test.count=1", "-test.run=^TestCodesynthTOKEN$"}
	os.Args = append([]string{os.Args[0]}, args...)
	_ = flag.CommandLine.Parse(args)
	code := m.Run()
	out := os.NewFile(3, "evidence")
	failures := 0
	codesynthMuTOKEN.Lock()
	for _, name := range []string{CODESYNTH_NAMES} {
		outcome, ran := codesynthOutcomesTOKEN[name]
		why := ""
		if !ran {
			outcome, why = "fail", "did not run"
		} else if outcome == "skip" {
			outcome, why = "fail", "skipped"
		}
		if outcome != "ok" {
			failures++
		}
		seconds := ""
		if ran {
			seconds = fmt.Sprintf("%.6f", codesynthSecondsTOKEN[name])
		}
		fmt.Fprintf(out, "TEST\\t%s\\t%s\\t%s\\t%s\\n", name, outcome, why, seconds)
	}
	codesynthMuTOKEN.Unlock()
	if code != 0 && failures == 0 {
		failures = 1
	}
	if failures != 0 && code == 0 {
		code = 1
	}
	nonce, _ := bufio.NewReader(os.Stdin).ReadString('\\n')
	fmt.Fprintf(out, "DONE\\t%s\\t%d\\n", strings.TrimSpace(nonce), failures)
	os.Exit(code)
}
"""

_GO_TEST = re.compile(r"^func\s+(Test(?![a-z])\w*)\s*\(\s*\w+\s+\*testing\.T\s*\)", re.MULTILINE)


def go_main(tests: str) -> str:
    names = list(dict.fromkeys(_GO_TEST.findall(tests)))
    if not names:
        raise Unrenderable("the Go test block has no `func TestXxx(t *testing.T)`")
    token = secrets.token_hex(8)
    return _GO_MAIN.replace("TOKEN", token).replace(
        "CODESYNTH_TESTS", ", ".join(f'{{"{n}", {n}}}' for n in names)).replace(
        "CODESYNTH_NAMES", ", ".join(f'"{n}"' for n in names))
