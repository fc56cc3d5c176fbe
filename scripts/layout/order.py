#!/usr/bin/env python3
"""order.py [--base ORDER] BINARY TRACE... > husk.order

Turns trace-text outputs (instruction addresses of BINARY, in first-touch order) into a
symbol ordering file for ld.lld (--symbol-ordering-file): the functions the husk
process itself ran (lines "P"), trace by trace in the order given, then the functions only
its children ran before they exec'd (lines "C"): the container init's setup; then every
CPU variant of the glibc string functions among them. --base: extend an existing order
file (its functions stay first) with more traces.
"""
import bisect
import re
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
    args = sys.argv[1:]
    base = []
    if args[:1] == ["--base"] and len(args) > 1:
        # An existing order to extend: its functions first, then what the traces add.
        base = [l.strip() for l in open(args[1]) if l.strip()]
        args = args[2:]
    if len(args) < 2:
        sys.exit(__doc__)
    binary, traces = args[0], args[1:]
    syms = functions(binary)
    starts = [s[0] for s in syms]
    size_of = {name: size for _, size, name in syms}
    order, seen = list(base), set(base)
    total = sum(size_of.get(n, 0) for n in base)
    for kind in ("P", "C"):
        for trace in traces:
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
    # glibc picks its string functions by CPU at start-up (IFUNC): the traces hold the
    # variants this CPU chose (evex, say); another CPU (a VM's, avx2 or sse2 only) runs
    # its siblings. Every variant of a traced family follows, so that any CPU's choice
    # is in a few windows next to the hot code, not scattered over the cold text.
    variant = re.compile(r"_(sse2|sse4_1|sse4_2|sse42|ssse3|avx|avx2|evex|evex512|avx512|avx512f|avx512bw)(_|$)")

    def family(name):  # "__memmove_evex_unaligned" -> "__memmove_"; None if not a variant
        m = variant.search(name)
        return name[:m.start() + 1] if m and name.startswith("__") else None

    families = {family(n) for n in order} - {None}
    for _, size, name in syms:
        if family(name) in families and name not in seen:
            seen.add(name)
            order.append(name)
            total += size
    sys.stderr.write(f"order.py: {len(order)} functions ({len(families)} IFUNC families), {total} bytes of code\n")
    print("\n".join(order))


main()
