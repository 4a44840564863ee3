#!/usr/bin/env bash
# Exports: build/liballoc.so's dynamic symbol table is exactly the list in
# tests/apps/exports.allowed (the malloc API, jemalloc's API, the C++
# operators; no protobuf-c generated code, no module internals), and
# build/liballoc.a defines no other global symbol than those, the hidden
# alloc_* entry points and the C++ EH personality reference: a program that
# defines, for its own use, every name liballoc uses internally (heap_get,
# opt, perftools__profiles__*, ...) links statically with liballoc.a and runs.
# The program below is compiled here on purpose: the test is about a user
# program that defines our internal names linking statically with liballoc.a.
. "$(dirname "$0")/lib.sh"
need nm
need cc
B=$ROOT/build
ALLOWED=$ROOT/tests/apps/exports.allowed
INTERNAL_A=$B/obj/liballoc-internal.a
[ -f "$B/liballoc.a" ] && [ -f "$INTERNAL_A" ] || fail "liballoc.a or $INTERNAL_A not built (run make)"

grep -v '^#' "$ALLOWED" | sed '/^$/d' | sort -u >"$TMP/allowed"

# 1. liballoc.so: exactly the allowed list.
nm -D --defined-only "$LIB" | awk '{print $NF}' | sort -u >"$TMP/so"
if ! cmp -s "$TMP/allowed" "$TMP/so"; then
    echo "liballoc.so exports not in $ALLOWED:"
    comm -13 "$TMP/allowed" "$TMP/so" | head -20 | sed 's/^/  + /'
    echo "names of $ALLOWED that liballoc.so does not export:"
    comm -23 "$TMP/allowed" "$TMP/so" | head -20 | sed 's/^/  - /'
    fail "liballoc.so's dynamic symbol table differs from the allowed list"
fi
echo "pass: liballoc.so exports exactly $(wc -l <"$TMP/allowed") allowed names"

# 2. liballoc.a: global definitions are the allowed names, alloc_* and the
#    C++ personality routine's hidden COMDAT reference; nothing else.
# (Weak inline members of std:: classes are not ours: an -O0 build
# (MODE=debug) emits std::bad_alloc's and std::exception's constructors
# where new_delete.cc throws; any program using them has the same copies.)
nm -g --defined-only "$B/liballoc.a" | awk 'NF == 3 && !($2 == "W" && $3 ~ /^_ZNSt/) {print $3}' | sort -u >"$TMP/a"
grep -vxF -f "$TMP/allowed" "$TMP/a" | grep -v '^alloc_' | grep -vx 'DW.ref.__gxx_personality_v0' >"$TMP/a_extra"
if [ -s "$TMP/a_extra" ]; then
    echo "liballoc.a defines global symbols outside the allowed list:"
    head -20 "$TMP/a_extra" | sed 's/^/  + /'
    fail "liballoc.a leaks $(wc -l <"$TMP/a_extra") global symbols"
fi
grep -qx malloc "$TMP/a" && grep -qx _Znwm "$TMP/a" || fail "liballoc.a lacks malloc or operator new"
echo "pass: liballoc.a defines only allowed global names"

# 3. A program that defines every internal name of the library (functions and
#    data) links statically with liballoc.a, and both sides keep their own.
nm -g --defined-only "$INTERNAL_A" | awk 'NF == 3 {print $3}' | sort -u |
    grep -vxF -f "$TMP/allowed" | grep -v '^alloc_' >"$TMP/internal"
[ "$(wc -l <"$TMP/internal")" -gt 100 ] || fail "expected the library's internal names, got $(wc -l <"$TMP/internal")"
{
    echo '#include <stdio.h>'
    echo '#include <stdlib.h>'
    echo '#include <jemalloc/jemalloc.h>'
    echo 'int user_marker;'
    while read -r s; do echo "int $s(void); int $s(void) { return ++user_marker; }"; done <"$TMP/internal"
    echo 'int main(void)'
    echo '{'
    echo '    char *p = malloc(100);'
    echo '    if (!p || sallocx(p, 0) != nallocx(100, 0)) { puts("malloc is not liballoc"); return 1; }'
    echo '    free(p);'
    echo '    int before = user_marker;'
    echo "    $(head -n 1 "$TMP/internal")();"
    echo '    puts(user_marker == before + 1 ? "ok" : "user function not called");'
    echo '    return 0;'
    echo '}'
} >"$TMP/user.c"
cc -O0 -w -I"$ROOT/include" -o "$TMP/user" "$TMP/user.c" "$B/liballoc.a" \
    -lunwind -lprotobuf-c -lz -lpthread -ldl -lm 2>"$TMP/link.err" ||
    fail "a program defining liballoc's internal names does not link with liballoc.a: $(grep -m3 'multiple definition\|error' "$TMP/link.err")"
out=$(env -u MALLOC_CONF -u LD_PRELOAD timeout 120 "$TMP/user" 2>&1)
[ "$out" = ok ] || fail "user program with liballoc.a: $out"
# Also with the profiler dumping pprof (its protobuf code must stay liballoc's).
out=$(cd "$TMP" && env -u LD_PRELOAD MALLOC_CONF=prof:true,prof_final:true,prof_format:both,prof_prefix:$TMP/u timeout 120 "$TMP/user" 2>&1)
[ "$out" = ok ] || fail "user program with liballoc.a, prof:true: $out"
ls "$TMP"/u.*.pb.gz >/dev/null 2>&1 || fail "user program with liballoc.a: no pprof dump at exit"
gzip -t "$TMP"/u.*.pb.gz || fail "user program with liballoc.a: pprof dump is not valid gzip"
echo "pass: $(wc -l <"$TMP/internal") internal names of the library are free for the program's own use"
echo ok
