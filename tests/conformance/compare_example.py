"""Differential test of an example: the C++ port against its Python original, on virtual time.

    compare_example.py --cpp BINARY --python ORIGINAL.py [--virtual SECONDS] [options] [-- ARGS]

Runs BINARY ARGS with AIO_VIRTUAL_TIME=1 AIO_REPORT_VIRTUAL_TIME=1 and ORIGINAL.py ARGS under
virtual_asyncio.py (CPython's asyncio on a virtual clock), then checks that
- both exit with status 0;
- both report SECONDS of virtual time skipped (the time the program would take in real time),
  within --tolerance (--python-virtual when the original's differs: blocking sleeps are real
  in C++ but virtual in Python);
- their stdouts are the same, line for line, once normalised for what cannot be the same:
  the file name before " executed in" (Python's __file__, C++'s __FILE__) is cut down to its
  stem, wall-clock times HH:MM:SS are masked, and --python-sub rewrites Python's lines where
  the port prints the nearest C++ equivalent (an object's repr). --sub rewrites both sides'
  lines alike, for what differs from run to run (a duration measured in real time), and
  --relabel replaces each distinct string matching a pattern (a random id) with #1, #2... in
  the order of first appearance, so the same value must still come back at the same places.
  --unordered sorts each run of consecutive lines matching a pattern, for output whose order
  CPython leaves to set iteration.
  Decimal numbers may differ by --number-tolerance: they are durations from perf_counter(),
  which counts the real time a program runs besides the virtual time it skips (and all of it
  for a blocking sleep), and a loaded machine stretches that.
"""

import argparse
import difflib
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = re.compile(r"^aio: virtual time skipped: ([0-9.]+) s$", re.MULTILINE)
DECIMAL = re.compile(r"\d+\.\d+")


def run(command, env_extra):
    env = dict(os.environ, **env_extra)
    start = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - start


def normalise(text, subs, unordered, relabel=()):
    labels = {}
    for pattern in relabel:
        text = re.sub(pattern, lambda m: labels.setdefault((pattern, m.group(0)),
                                                           f"#{len(labels) + 1}"), text)
    lines = []
    for line in text.splitlines():
        line = re.sub(r"\S+(?= executed in )", lambda m: os.path.splitext(os.path.basename(
            m.group(0)))[0], line)
        line = re.sub(r"\b\d\d:\d\d:\d\d\b", "HH:MM:SS", line)
        for pattern, replacement in subs:
            line = re.sub(pattern, replacement, line)
        lines.append(line)
    for pattern in unordered:
        regex = re.compile(pattern)
        i = 0
        while i < len(lines):
            j = i
            while j < len(lines) and regex.search(lines[j]):
                j += 1
            lines[i:j] = sorted(lines[i:j])
            i = max(j, i + 1)
    return lines


def same_but_decimals(a, b, tolerance):
    if DECIMAL.sub("#", a) != DECIMAL.sub("#", b):
        return False
    return all(abs(float(x) - float(y)) <= tolerance + 1e-9
               for x, y in zip(DECIMAL.findall(a), DECIMAL.findall(b)))


def virtual_seconds(name, stderr):
    found = REPORT.findall(stderr)
    if len(found) != 1:
        raise SystemExit(f"FAIL: {name} reported its virtual time {len(found)} times, not once;"
                         f" stderr:\n{stderr}")
    return float(found[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpp", required=True, help="the example's executable")
    parser.add_argument("--python", required=True, help="the Python original")
    parser.add_argument("--virtual", type=float, help="the virtual seconds both must take")
    parser.add_argument("--python-virtual", type=float, help="the original's, if not the same")
    parser.add_argument("--tolerance", type=float, default=0.01)
    parser.add_argument("--unordered", action="append", default=[], metavar="REGEX")
    parser.add_argument("--python-sub", nargs=2, action="append", default=[],
                        metavar=("REGEX", "REPLACEMENT"))
    parser.add_argument("--sub", nargs=2, action="append", default=[],
                        metavar=("REGEX", "REPLACEMENT"))
    parser.add_argument("--relabel", action="append", default=[], metavar="REGEX")
    parser.add_argument("--number-tolerance", type=float, default=0.1)
    parser.add_argument("args", nargs="*", help="arguments for both programs (after --)")
    ns = parser.parse_args()

    cpp, cpp_wall = run([ns.cpp, *ns.args],
                        {"AIO_VIRTUAL_TIME": "1", "AIO_REPORT_VIRTUAL_TIME": "1"})
    py, _ = run([sys.executable, os.path.join(HERE, "virtual_asyncio.py"), ns.python, *ns.args],
                {"AIO_REPORT_VIRTUAL_TIME": "1"})
    failures = []
    for name, done in (("C++", cpp), ("Python", py)):
        if done.returncode != 0:
            failures.append(f"{name} exited with {done.returncode}; stderr:\n{done.stderr}")
    if failures:
        raise SystemExit("FAIL: " + "\n".join(failures))

    print(f"C++ wall time {cpp_wall:.3f} s")
    if ns.virtual is not None:
        python_expected = ns.virtual if ns.python_virtual is None else ns.python_virtual
        for name, done, expected in (("C++", cpp, ns.virtual), ("Python", py, python_expected)):
            seconds = virtual_seconds(name, done.stderr)
            print(f"{name} virtual time {seconds:.3f} s, expected {expected:.3f} s")
            if abs(seconds - expected) > ns.tolerance:
                failures.append(f"{name} took {seconds:.3f} virtual seconds, not {expected:.3f}")

    expected = normalise(py.stdout, ns.sub + ns.python_sub, ns.unordered, ns.relabel)
    actual = normalise(cpp.stdout, ns.sub, ns.unordered, ns.relabel)
    if len(expected) == len(actual):
        actual = [e if same_but_decimals(e, a, ns.number_tolerance) else a
                  for e, a in zip(expected, actual)]
    if actual != expected:
        diff = difflib.unified_diff(expected, actual, "Python (normalised)", "C++ (normalised)",
                                    lineterm="")
        failures.append("stdout differs:\n" + "\n".join(diff))
    if failures:
        print("Python stdout:\n" + py.stdout + "\nC++ stdout:\n" + cpp.stdout)
        raise SystemExit("FAIL: " + "\n".join(failures))
    print(f"OK: {len(actual)} lines of stdout match")


if __name__ == "__main__":
    main()
