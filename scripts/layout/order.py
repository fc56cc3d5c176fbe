#!/usr/bin/env python3
"""order.py BINARY TRACE... > husk.order

Turns trace-text outputs (instruction addresses of BINARY, in first-touch order) into a
symbol ordering file for ld.lld (--symbol-ordering-file): the functions the husk
process itself ran (lines "P"), trace by trace in the order given, then the functions only
its children ran before they exec'd (lines "C"): the container init's setup.
"""
import bisect
import subprocess
import sys


def functions(binary):
    out = subprocess.run(["nm", "-n", "-S", "--defined-only", binary],
                         capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in "tTwWiI":
            syms.append((int(f[0], 16), int(f[1], 16), f[3]))
        elif len(f) == 3 and f[1] in "tTwW":  # no size (crtstuff's frame_dummy, ...)
            syms.append((int(f[0], 16), 0, f[2]))
    syms.sort()
    # A symbol without a size runs to the next one.
    for i, (a, size, name) in enumerate(syms):
        if size == 0 and i + 1 < len(syms):
            syms[i] = (a, syms[i + 1][0] - a, name)
    return syms


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    syms = functions(sys.argv[1])
    starts = [s[0] for s in syms]
    order, seen = [], set()
    total = 0
    for kind in ("P", "C"):
        for trace in sys.argv[2:]:
            for line in open(trace):
                k, a = line.split()
                if k != kind:
                    continue
                a = int(a, 16)
                i = bisect.bisect_right(starts, a) - 1
                if i < 0 or a >= syms[i][0] + max(syms[i][1], 1):
                    continue  # not inside a function (.iplt stubs)
                name = syms[i][2]
                if name not in seen:
                    seen.add(name)
                    order.append(name)
                    total += syms[i][1]
    sys.stderr.write(f"order.py: {len(order)} functions, {total} bytes of code\n")
    print("\n".join(order))


main()
