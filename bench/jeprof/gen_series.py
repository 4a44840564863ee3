#!/usr/bin/env python3
"""gen_series.py DIR NDUMPS NSITES BINARY: writes NDUMPS heap_v2 dumps
(DIR/series.1.<seq>.i<seq>.heap, one minute apart by their "# time_ns"
lines) of NSITES distinct stacks whose addresses lie in BINARY's text
(mapped as in a process), so jeprof-c symbolizes them for real. Site k
grows by k % 7 blocks per dump (0 = constant); every 10th site spikes."""
import os, random, subprocess, sys

d, ndumps, nsites, binary = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
# The text section's address range, from readelf.
out = subprocess.run(['readelf', '-SW', binary], capture_output=True, text=True).stdout
text = [l for l in out.splitlines() if ' .text ' in l][0].split()
i = text.index('.text')
lo, size = int(text[i + 2], 16), int(text[i + 4], 16)
base = 0x555555554000
r = random.Random(11)
stacks = []
for k in range(nsites):
    depth = r.randint(4, 12)
    stacks.append(' '.join('0x%x' % (base + lo + r.randrange(size)) for _ in range(depth)))
path = os.path.realpath(binary)
maps = '%x-%x r-xp 00000000 00:00 0 %s\n' % (base, base + lo + size + 0x1000, path)
t0 = 1700000000 * 10**9
for n in range(ndumps):
    lines, tot_o, tot_b = [], 0, 0
    for k, s in enumerate(stacks):
        objs = 1 + (k % 7) * n + (50 if k % 10 == 3 and n == ndumps // 2 else 0)
        b = objs * 4096
        tot_o += objs; tot_b += b
        lines.append('@ %s\n  t*: %d: %d [0: 0]\n' % (s, objs, b))
    with open(os.path.join(d, 'series.1.%d.i%d.heap' % (n, n)), 'w') as f:
        f.write('heap_v2/524288\n  t*: %d: %d [0: 0]\n' % (tot_o, tot_b))
        f.writelines(lines)
        f.write('\nMAPPED_LIBRARIES:\n' + maps + '# time_ns %d\n' % (t0 + n * 60 * 10**9))
