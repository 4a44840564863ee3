#!/usr/bin/env bash
# python3 under LD_PRELOAD=liballoc: a dict/list/str-heavy deterministic
# script prints a digest that must equal the digest of the same run on
# glibc malloc, with MALLOC_CONF unset and set. Inside the preloaded
# interpreter, malloc/calloc/realloc/free must resolve into liballoc's
# mapping in /proc/self/maps and mallctl("version") must answer.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || skip "python3 not installed"
check_preload_maps
check_stats_print "$PY" -c "d = {i: str(i) for i in range(1000)}"

cat >"$TMP/work.py" <<'PYEOF'
import ctypes, hashlib, os, random, sys

def loaded_check(lib):
    ranges = []
    with open('/proc/self/maps') as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == lib:
                lo, hi = (int(x, 16) for x in parts[0].split('-'))
                ranges.append((lo, hi))
    if not ranges:
        return "%s not in /proc/self/maps" % lib
    # The process's malloc (what the interpreter itself calls) must hand out
    # blocks that liballoc's own sallocx knows: for a glibc block it could not.
    c = ctypes.CDLL(None)
    la = ctypes.CDLL(lib)
    c.malloc.restype = ctypes.c_void_p
    c.malloc.argtypes = [ctypes.c_size_t]
    c.free.argtypes = [ctypes.c_void_p]
    c.malloc_usable_size.restype = ctypes.c_size_t
    c.malloc_usable_size.argtypes = [ctypes.c_void_p]
    la.sallocx.restype = ctypes.c_size_t
    la.sallocx.argtypes = [ctypes.c_void_p, ctypes.c_int]
    la.nallocx.restype = ctypes.c_size_t
    la.nallocx.argtypes = [ctypes.c_size_t, ctypes.c_int]
    for n in (24, 1000, 100000):
        p = c.malloc(n)
        if not p:
            return "malloc(%d) failed" % n
        s, want, u = la.sallocx(p, 0), la.nallocx(n, 0), c.malloc_usable_size(p)
        c.free(p)
        if s != want or u != want:
            return "malloc(%d): sallocx %d, malloc_usable_size %d, nallocx %d" % (n, s, u, want)
    try:
        mallctl = la.mallctl
    except AttributeError:
        return "mallctl is not exported"
    v = ctypes.c_char_p()
    sz = ctypes.c_size_t(ctypes.sizeof(v))
    r = mallctl(b"version", ctypes.byref(v), ctypes.byref(sz), None, ctypes.c_size_t(0))
    if r != 0 or not v.value or not v.value.startswith(b"5."):
        return "mallctl(\"version\") = %d, %r" % (r, v.value)
    return None

if len(sys.argv) > 1:
    err = loaded_check(sys.argv[1])
    if err:
        print("not running on liballoc: " + err, file=sys.stderr)
        sys.exit(3)

rng = random.Random(20240611)
letters = "abcdefghijklmnopqrstuvwxyz0123456789"
words = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 24))) for _ in range(100000)]

# dict of lists, nested dicts, sets
index = {}
for i, w in enumerate(words):
    index.setdefault(w, []).append(i)
tree = {}
for w in words[:60000]:
    tree.setdefault(w[0], {}).setdefault(len(w), []).append(w)
uniq = set(words)

h = hashlib.sha256()
for w in sorted(index):
    v = index[w]
    h.update(("%s:%d:%d\n" % (w, len(v), sum(v))).encode())
for k in sorted(tree):
    for n in sorted(tree[k]):
        h.update(("%s/%d/%s\n" % (k, n, ",".join(sorted(tree[k][n])[:5]))).encode())

# churn: grow and shrink lists and dicts, build and drop big strings
lists = [[] for _ in range(500)]
for i in range(120000):
    l = lists[rng.randrange(500)]
    if l and rng.random() < 0.4:
        l.pop(rng.randrange(len(l)))
    else:
        l.append(words[i % len(words)] * rng.randint(1, 8))
h.update(repr(sorted(len(l) for l in lists)).encode())
for i in range(200):
    s = "".join(words[i * 500:(i + 1) * 500]) * (1 + i % 7)
    h.update(hashlib.md5(s.encode()).digest())
    b = bytearray(s.encode())
    b.extend(b[: len(b) // 2])
    h.update(bytes(b[-64:]))
d2 = {i: str(i) * (i % 13) for i in range(100000)}
for i in range(0, 100000, 3):
    del d2[i]
h.update(repr(sum(len(v) for v in d2.values())).encode())

print(len(index), len(uniq), len(d2), h.hexdigest())
PYEOF

export PYTHONHASHSEED=0
env -u MALLOC_CONF timeout 120 "$PY" "$TMP/work.py" >"$TMP/ref.out" 2>&1 || fail "reference run failed: $(tail -3 "$TMP/ref.out")"
grep -qE '^[0-9]+ [0-9]+ [0-9]+ [0-9a-f]{64}$' "$TMP/ref.out" || fail "unexpected reference output: $(cat "$TMP/ref.out")"
for conf in "" "$CONF_SET"; do
    if [ -z "$conf" ]; then
        env -u MALLOC_CONF LD_PRELOAD="$LIB" timeout 120 "$PY" "$TMP/work.py" "$LIB" >"$TMP/pre.out" 2>"$TMP/pre.err"
    else
        env MALLOC_CONF="$conf" LD_PRELOAD="$LIB" timeout 120 "$PY" "$TMP/work.py" "$LIB" >"$TMP/pre.out" 2>"$TMP/pre.err"
    fi
    rc=$?
    [ $rc -eq 0 ] || fail "python3 under liballoc (MALLOC_CONF='$conf') exited $rc: $(tail -5 "$TMP/pre.err")"
    same_output "python3 (MALLOC_CONF='$conf')" "$TMP/ref.out" "$TMP/pre.out"
    [ -s "$TMP/pre.err" ] && cat "$TMP/pre.err"
done
echo "python3: $(cat "$TMP/ref.out") identical under liballoc"
