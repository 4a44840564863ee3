#!/usr/bin/env bash
# Plugins: a shared library linked with the allocator (liballoc.so via
# -lalloc, and liballoc.a linked into the plugin), used by a program that is
# not linked with it, so glibc's malloc/free come first in the symbol search
# order. Checked:
#  - direct link: mallocx/rallocx/xallocx/sallocx/sdallocx/dallocx from the
#    plugin work (the allocator's internal frees must not reach glibc's free);
#    the plugin's blocks are ours (sallocx = nallocx) and the host's malloc is
#    still glibc's;
#  - dlopen: threads allocate through the plugin, the plugin is dlclosed,
#    then the threads exit (their thread-exit hook must still be mapped);
#  - dlopen/dlclose repeated, allocating each time, with a thread per round;
#  - a C program dlopens a C++ plugin linked with -lalloc, then one that is
#    not: libstdc++ (loaded with the first) binds its operator delete to
#    liballoc's, while the second plugin's new reaches glibc's malloc, so
#    liballoc's delete receives glibc's blocks; they must go back to glibc
#    (liballoc/process_malloc.h), not be reported and leaked.
# The plugins and hosts below are compiled here on purpose: the test is about
# those link lines (a plugin with -lalloc or liballoc.a, dlopen'd or linked).
. "$(dirname "$0")/lib.sh"
need cc
INC=$ROOT/include
B=$ROOT/build
[ -f "$B/liballoc.a" ] || fail "$B/liballoc.a not built (run make)"

cat >"$TMP/plugin.c" <<'X'
#include <jemalloc/jemalloc.h>
#include <string.h>
/* Each call returns 0 on success, or the number of the failed check. */
int plugin_churn(unsigned seed)
{
    void *keep[64];
    for (int i = 0; i < 64; i++) {
        size_t n = 1 + (seed * 2654435761u + (unsigned)i * 40503u) % 70000;
        keep[i] = mallocx(n, i % 3 == 0 ? MALLOCX_ZERO : 0);
        if (!keep[i])
            return 1;
        if (sallocx(keep[i], 0) != nallocx(n, 0))
            return 2;
        if (i % 3 == 0 && ((unsigned char *)keep[i])[n - 1] != 0)
            return 3;
        memset(keep[i], 0x5a, n);
        if (i % 4 == 1) {
            void *q = rallocx(keep[i], n * 3 + 100, 0); /* moves: an internal free */
            if (!q)
                return 4;
            keep[i] = q;
        }
        if (i % 5 == 2)
            (void)xallocx(keep[i], n + 1, 0, 0);
    }
    for (int i = 0; i < 64; i++) {
        if (i % 2)
            sdallocx(keep[i], sallocx(keep[i], 0), 0);
        else
            dallocx(keep[i], 0);
    }
    void *a = mallocx(4096, MALLOCX_ALIGN(4096));
    if (!a || ((unsigned long)a & 4095))
        return 5;
    dallocx(a, MALLOCX_ALIGN(4096));
    return 0;
}
X
cat >"$TMP/host_direct.c" <<'X'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int plugin_churn(unsigned seed);
int main(int argc, char **argv)
{
    Dl_info di;
    /* With "glibc": the host's malloc must be glibc's (the plugin's internal
     * calls then meet a foreign malloc first in the search order). */
    if (argc > 1 && (!dladdr((void *)&malloc, &di) || !di.dli_fname || !strstr(di.dli_fname, "libc.so"))) {
        fprintf(stderr, "the host's malloc is in %s, expected glibc\n", di.dli_fname ? di.dli_fname : "?");
        return 3;
    }
    for (unsigned s = 0; s < 50; s++) {
        int r = plugin_churn(s);
        if (r) {
            fprintf(stderr, "plugin_churn(%u) failed check %d\n", s, r);
            return 1;
        }
    }
    puts("ok");
    return 0;
}
X
cat >"$TMP/host_dlopen.c" <<'X'
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
typedef int (*churn_fn)(unsigned);
static churn_fn churn;
static pthread_barrier_t used, closed;
static int failures;
static void *worker(void *arg)
{
    if (churn((unsigned)(size_t)arg))
        __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    pthread_barrier_wait(&used);   /* every thread has a heap now */
    pthread_barrier_wait(&closed); /* the plugin is dlclosed: exit */
    return NULL;
}
static void *open_plugin(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        exit(1);
    }
    churn = (churn_fn)dlsym(h, "plugin_churn");
    if (!churn) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        exit(1);
    }
    return h;
}
int main(int argc, char **argv)
{
    enum { T = 4 };
    pthread_t t[T];
    /* Threads that used the plugin's allocator exit after dlclose. */
    void *h = open_plugin(argv[1]);
    pthread_barrier_init(&used, NULL, T + 1);
    pthread_barrier_init(&closed, NULL, T + 1);
    for (int i = 0; i < T; i++)
        pthread_create(&t[i], NULL, worker, (void *)(size_t)i);
    pthread_barrier_wait(&used);
    if (dlclose(h) != 0) {
        fprintf(stderr, "dlclose: %s\n", dlerror());
        return 1;
    }
    pthread_barrier_wait(&closed);
    for (int i = 0; i < T; i++)
        pthread_join(t[i], NULL);
    /* Repeated dlopen/dlclose, a short-lived allocating thread each round. */
    for (int round = 0; round < 20; round++) {
        h = open_plugin(argv[1]);
        pthread_barrier_destroy(&used);
        pthread_barrier_destroy(&closed);
        pthread_barrier_init(&used, NULL, 2);
        pthread_barrier_init(&closed, NULL, 2);
        pthread_create(&t[0], NULL, worker, (void *)(size_t)(100 + round));
        if (churn((unsigned)round))
            failures++;
        pthread_barrier_wait(&used);
        dlclose(h);
        pthread_barrier_wait(&closed);
        pthread_join(t[0], NULL);
    }
    if (failures) {
        fprintf(stderr, "%d plugin_churn calls failed\n", failures);
        return 1;
    }
    puts("ok");
    return 0;
}
X

# Plugin linked with liballoc.so, and plugin with liballoc.a linked in.
cc -shared -fPIC -I"$INC" -o "$TMP/libplugin.so" "$TMP/plugin.c" -L"$B" -lalloc -Wl,-rpath,"$B" ||
    fail "building the plugin (-lalloc)"
cc -shared -fPIC -I"$INC" -o "$TMP/libplugin_static.so" "$TMP/plugin.c" "$B/liballoc.a" \
    -lunwind -lprotobuf-c -lz -lpthread -ldl -lm || fail "building the plugin (liballoc.a)"
cc -o "$TMP/host_direct" "$TMP/host_direct.c" -L"$TMP" -lplugin -Wl,-rpath,"$TMP" || fail "building host_direct"
cc -o "$TMP/host_direct_static" "$TMP/host_direct.c" -L"$TMP" -lplugin_static -Wl,-rpath,"$TMP" ||
    fail "building host_direct_static"
cc -o "$TMP/host_dlopen" "$TMP/host_dlopen.c" -ldl -lpthread || fail "building host_dlopen"

# The hosts themselves must not be linked with the allocator.
for h in host_direct host_dlopen; do
    readelf -d "$TMP/$h" | grep -q 'NEEDED.*liballoc' && fail "$h is linked with liballoc"
done

run() { # name cmd...
    local name=$1 out
    shift
    out=$(env -u LD_PRELOAD -u MALLOC_CONF timeout 300 "$@" 2>&1)
    local rc=$?
    [ $rc -eq 0 ] && [ "$out" = ok ] || fail "$name: exit $rc, output: $(head -c 400 <<<"$out")"
    echo "pass: $name"
}
run "plugin (-lalloc), host linked with it" "$TMP/host_direct" glibc
# A plugin with liballoc.a inside exports malloc itself and precedes libc: the
# whole process then uses it (the dlopen cases below keep it RTLD_LOCAL).
run "plugin (liballoc.a), host linked with it" "$TMP/host_direct_static"
run "plugin (-lalloc) dlopened, threads exit after dlclose, 20 reopenings" "$TMP/host_dlopen" "$TMP/libplugin.so"
run "plugin (liballoc.a) dlopened, threads exit after dlclose, 20 reopenings" \
    "$TMP/host_dlopen" "$TMP/libplugin_static.so"
# With the profiler on (its thread state and exit dump live in the allocator too).
out=$(cd "$TMP" && env -u LD_PRELOAD MALLOC_CONF=prof:true,lg_prof_sample:10 timeout 300 \
    "$TMP/host_dlopen" "$TMP/libplugin.so" 2>&1)
[ "$out" = ok ] || fail "prof:true plugin dlopened: $(head -c 400 <<<"$out")"
echo "pass: prof:true plugin dlopened"
# With the background thread (it runs in the allocator's code after dlclose).
out=$(env -u LD_PRELOAD MALLOC_CONF=background_thread:true,dirty_decay_ms:10 timeout 300 \
    "$TMP/host_dlopen" "$TMP/libplugin.so" 2>&1)
[ "$out" = ok ] || fail "background_thread:true plugin dlopened: $(head -c 400 <<<"$out")"
echo "pass: background_thread:true plugin dlopened"
# stats_print:true: the exit-time hook still runs (at exit, the code still mapped).
out=$(env -u LD_PRELOAD MALLOC_CONF=stats_print:true timeout 300 "$TMP/host_dlopen" "$TMP/libplugin.so" 2>"$TMP/stats.err")
[ "$out" = ok ] || fail "stats_print:true plugin dlopened: $out $(head -c 300 "$TMP/stats.err")"
grep -q -- "--- End jemalloc statistics ---" "$TMP/stats.err" || fail "stats_print:true plugin dlopened: no statistics at exit"
echo "pass: stats_print:true plugin dlopened"

if command -v g++ >/dev/null; then
    cat >"$TMP/cxx_a.cc" <<'X'
#include <string>
#include <vector>
extern "C" size_t a_work(int n)
{
    std::vector<std::string> v;
    for (int i = 0; i < n; i++)
        v.push_back(std::string(40 + i % 200, 'a'));
    return v.size();
}
X
    cat >"$TMP/cxx_b.cc" <<'X'
#include <new>
#include <sstream>
#include <string>
#include <vector>
struct Node { char pad[48]; };
extern "C" size_t b_work(int n)
{
    std::vector<std::string> v;
    size_t sum = 0;
    for (int i = 0; i < n; i++) {
        std::string s;
        s.reserve(100 + i);
        s.append(50, 'b');
        std::ostringstream o;
        o << s << i;
        v.push_back(o.str());
        Node *x = new Node;           /* sized delete */
        char *a = new char[64 + i];   /* delete[] */
        void *r = ::operator new(200); /* unsized delete */
        sum += (size_t)x->pad[0] + (size_t)a[0] * 0 + (r != nullptr);
        delete x;
        delete[] a;
        ::operator delete(r);
    }
    return v.size() + sum * 0;
}
X
    cat >"$TMP/host_cxx.c" <<'X'
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char l[256];
    long kb = -1;
    while (f && fgets(l, sizeof l, f))
        if (!strncmp(l, "VmRSS:", 6))
            kb = atol(l + 6);
    if (f)
        fclose(f);
    return kb;
}
static void *sym(const char *lib, const char *name)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    void *f = h ? dlsym(h, name) : NULL;
    if (!f) {
        fprintf(stderr, "%s\n", dlerror());
        exit(1);
    }
    return f;
}
int main(int argc, char **argv)
{
    size_t (*a)(int) = (size_t (*)(int))sym(argv[1], "a_work");
    size_t (*b)(int) = (size_t (*)(int))sym(argv[2], "b_work");
    if (a(100) != 100 || b(100) != 100)
        return 1;
    long before = rss_kb();
    for (int r = 0; r < 2000; r++)
        if (b(1000) != 1000)
            return 1;
    long grown = rss_kb() - before;
    if (grown > 20000) { /* every block leaked: about 130 MB */
        fprintf(stderr, "RSS grew by %ld kB\n", grown);
        return 1;
    }
    puts("ok");
    return 0;
}
X
    g++ -shared -fPIC -O1 -o "$TMP/libcxx_a.so" "$TMP/cxx_a.cc" -L"$B" -lalloc -Wl,-rpath,"$B" ||
        fail "building the C++ plugin (-lalloc)"
    g++ -shared -fPIC -O1 -o "$TMP/libcxx_b.so" "$TMP/cxx_b.cc" || fail "building the C++ plugin (no liballoc)"
    cc -o "$TMP/host_cxx" "$TMP/host_cxx.c" -ldl || fail "building host_cxx"
    run "C host: C++ plugin (-lalloc), then a C++ plugin without it: its blocks go back to glibc" \
        "$TMP/host_cxx" "$TMP/libcxx_a.so" "$TMP/libcxx_b.so"
else
    echo "skip: C++ plugins (no g++)"
fi
echo "ok"
