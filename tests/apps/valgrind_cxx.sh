#!/usr/bin/env bash
# C++ new and delete under valgrind's memcheck with the allocator
# preloaded. Memcheck replaces free, operator delete and operator delete[]
# in every object, liballoc's too, and names each replaced function by its
# address: when operator delete and delete[] were aliases of free (one
# address), every delete of a new'd block was reported as "Mismatched
# free() / delete / delete []". Checked with sized deallocation (C++14's
# default: operator delete(void *, size_t)) and without it, for new/delete,
# new[]/delete[] of a type with and without a destructor (the array cookie),
# the standard containers and shared_ptr: the output and no memcheck error.
. "$(dirname "$0")/lib.sh"
need valgrind
need g++
cat >"$TMP/vgcxx.cc" <<'CC'
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>
struct Node {
    long a[5];
    ~Node() { a[0] = 0; }
};
int main()
{
    long sum = 0;
    for (int i = 0; i < 50; i++) {
        std::string *s = new std::string(100, 'x');
        int *a = new int[10];
        a[9] = i;
        sum += a[9];
        delete[] a;
        Node *n = new Node[3];
        delete[] n;
        Node *m = new Node;
        delete m;
        std::vector<int> v(1000, 1);
        sum += v[999];
        std::shared_ptr<Node> sp = std::make_shared<Node>();
        char *c = static_cast<char *>(std::malloc(10));
        std::free(c);
        sum += (long)s->size();
        delete s;
    }
    std::printf("done %ld\n", sum);
}
CC
for mode in sized unsized; do
    flags=
    [ $mode = unsized ] && flags=-fno-sized-deallocation
    g++ -O1 $flags -o "$TMP/vgcxx_$mode" "$TMP/vgcxx.cc" || fail "g++ $flags failed"
    out=$(LD_PRELOAD="$LIB" valgrind -q --error-exitcode=9 --leak-check=no "$TMP/vgcxx_$mode" 2>"$TMP/vg.err")
    rc=$?
    [ "$rc" = 0 ] || { head -n 30 "$TMP/vg.err"; fail "$mode: valgrind exit $rc"; }
    [ ! -s "$TMP/vg.err" ] || { head -n 30 "$TMP/vg.err"; fail "$mode: memcheck reported errors"; }
    [ "$out" = "done 6275" ] || fail "$mode: output '$out' (want 'done 6275')"
    echo "ok   $mode delete: no memcheck error"
done
echo "PASS: C++ new/delete, new[]/delete[] under memcheck with liballoc preloaded"
