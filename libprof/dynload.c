/* dynload: libunwind, zlib and libprotobuf-c loaded at run time (see dynload.h). */
#include "dynload_pb.h"
#include "dynload.h"
#include "prof_hooks.h"

#include <dlfcn.h>
#include <errno.h>
#include <protobuf-c/protobuf-c.h>
#include <string.h>
#include <time.h>

/* A macro's expansion as a string: libunwind.h maps its names to the
 * architecture's symbols (unw_step: _ULx86_64_step). */
#define SYM_EXPAND(x) #x
#define SYM(x) SYM_EXPAND(x)

static struct dynload_unw unw_tab;
static struct dynload_z z_tab;
const struct dynload_unw *dynload_unw;
const struct dynload_z *dynload_z;
bool dynload_pb_ok;

/* libprotobuf-c's entry points behind dynload_pb_* (dynload_pb.h). */
static struct {
    size_t (*get_packed_size)(const ProtobufCMessage *);
    size_t (*pack)(const ProtobufCMessage *, uint8_t *);
    size_t (*pack_to_buffer)(const ProtobufCMessage *, ProtobufCBuffer *);
    ProtobufCMessage *(*unpack)(const ProtobufCMessageDescriptor *, ProtobufCAllocator *, size_t,
                                const uint8_t *);
    void (*free_unpacked)(ProtobufCMessage *, ProtobufCAllocator *);
} pb;

/* The generated code's default for string fields. */
const char dynload_pb_empty_string[] = "";

/* The forwarders: nothing (0, NULL) before libprotobuf-c is loaded; the
 * writer checks dynload_pprof_ready first. */
size_t dynload_pb_get_packed_size(const ProtobufCMessage *m)
{
    return pb.get_packed_size ? pb.get_packed_size(m) : 0;
}

size_t dynload_pb_pack(const ProtobufCMessage *m, uint8_t *out)
{
    return pb.pack ? pb.pack(m, out) : 0;
}

size_t dynload_pb_pack_to_buffer(const ProtobufCMessage *m, ProtobufCBuffer *b)
{
    return pb.pack_to_buffer ? pb.pack_to_buffer(m, b) : 0;
}

ProtobufCMessage *dynload_pb_unpack(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a,
                                    size_t len, const uint8_t *data)
{
    return pb.unpack ? pb.unpack(d, a, len, data) : NULL;
}

void dynload_pb_free_unpacked(ProtobufCMessage *m, ProtobufCAllocator *a)
{
    if (pb.free_unpacked)
        pb.free_unpacked(m, a);
}

/* Report that lib cannot be loaded (why: dlerror's text, or the symbol
 * it lacks) and what the profiler does without it (then): one line, no
 * allocation. */
static void report(const char *lib, const char *why, const char *then)
{
    char msg[512];
    size_t n = 0;
    const char *parts[] = {"<jemalloc>: cannot load ", lib, " (", why, "): ", then, "\n"};
    for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        for (const char *p = parts[i]; *p && n + 1 < sizeof(msg); p++)
            msg[n++] = *p;
    msg[n] = '\0';
    prof_host_warn(msg);
}

/* dlopen lib and every symbol of names[] into slots[] (same order): the
 * handle, or NULL (reported, with then) if lib cannot be loaded or lacks
 * one of them (a library of that name that is not the one meant: then
 * closed again). */
static void *open_all(const char *lib, const char *const *names, void **slots, unsigned n,
                      const char *then)
{
    void *h = dlopen(lib, RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        report(lib, e ? e : "dlopen failed", then);
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        slots[i] = dlsym(h, names[i]);
        if (!slots[i]) {
            char why[128] = "no symbol ";
            size_t k = strlen(why);
            for (const char *p = names[i]; *p && k + 1 < sizeof(why); p++)
                why[k++] = *p;
            why[k] = '\0';
            report(lib, why, then);
            dlclose(h);
            return NULL;
        }
    }
    return h;
}

static void load_unwind(void)
{
    static const char *const names[] = {
        "unw_backtrace", SYM(unw_tdep_getcontext), SYM(unw_init_local), SYM(unw_get_reg),
        SYM(unw_step),   SYM(unw_flush_cache),     SYM(unw_local_addr_space),
    };
    void *s[sizeof(names) / sizeof(names[0])];
    if (!open_all("libunwind.so.8", names, s, sizeof(names) / sizeof(names[0]),
                  "stacks follow frame pointers where the cached .eh_frame rules cannot go on "
                  "(prof_unwind:libunwind: everywhere)"))
        return;
    /* Function pointers from dlsym's void *: POSIX guarantees the cast. */
    memcpy(&unw_tab.backtrace, &s[0], sizeof(void *));
    memcpy(&unw_tab.getcontext, &s[1], sizeof(void *));
    memcpy(&unw_tab.init_local, &s[2], sizeof(void *));
    memcpy(&unw_tab.get_reg, &s[3], sizeof(void *));
    memcpy(&unw_tab.step, &s[4], sizeof(void *));
    memcpy(&unw_tab.flush_cache, &s[5], sizeof(void *));
    unw_tab.local_addr_space = s[6];
    __atomic_store_n(&dynload_unw, &unw_tab, __ATOMIC_RELEASE);
}

/* libz and libprotobuf-c: 0 not tried, 1 being loaded, 2 tried. */
static int pprof_state;

static void load_pprof(void)
{
    static const char *const znames[] = {"deflateInit2_", "deflate", "deflateEnd"};
    static const char *const pnames[] = {
        "protobuf_c_message_get_packed_size", "protobuf_c_message_pack",
        "protobuf_c_message_pack_to_buffer",  "protobuf_c_message_unpack",
        "protobuf_c_message_free_unpacked",
    };
    void *zs[3], *ps[5];
    static const char then[] = "pprof dumps fail with ENOENT";
    if (open_all("libz.so.1", znames, zs, 3, then)) {
        memcpy(&z_tab.deflate_init2, &zs[0], sizeof(void *));
        memcpy(&z_tab.deflate, &zs[1], sizeof(void *));
        memcpy(&z_tab.deflate_end, &zs[2], sizeof(void *));
        __atomic_store_n(&dynload_z, &z_tab, __ATOMIC_RELEASE);
    }
    if (open_all("libprotobuf-c.so.1", pnames, ps, 5, then)) {
        memcpy(&pb.get_packed_size, &ps[0], sizeof(void *));
        memcpy(&pb.pack, &ps[1], sizeof(void *));
        memcpy(&pb.pack_to_buffer, &ps[2], sizeof(void *));
        memcpy(&pb.unpack, &ps[3], sizeof(void *));
        memcpy(&pb.free_unpacked, &ps[4], sizeof(void *));
        __atomic_store_n(&dynload_pb_ok, true, __ATOMIC_RELEASE);
    }
}

void dynload_boot(bool unwind, bool pprof)
{
    static bool done;
    if (done)
        return;
    done = true;
    if (!prof_host_dlopen_usable()) {
        if (pprof)
            prof_host_warn("<jemalloc>: a statically linked program loads neither zlib nor "
                           "libprotobuf-c: pprof dumps will fail\n");
        return;
    }
    if (unwind)
        load_unwind();
    if (pprof)
        (void)dynload_pprof_load();
}

int dynload_pprof_load(void)
{
    int st = 0;
    if (__atomic_compare_exchange_n(&pprof_state, &st, 1, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        if (prof_host_dlopen_usable())
            load_pprof();
        __atomic_store_n(&pprof_state, 2, __ATOMIC_RELEASE);
        return dynload_pprof_ready();
    }
    /* Another thread is loading them (a few milliseconds): wait for it, as
     * a dump that comes after the load waits for the dump lock. Bounded
     * (2 s), not a lock: the loader's dlopen waits for the loader's lock,
     * which this thread may hold (a mallctl from a constructor that a
     * dlopen runs); then EAGAIN, and the loader goes on once it returns. */
    for (int i = 0; st == 1 && i < 2000; i++) {
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        st = __atomic_load_n(&pprof_state, __ATOMIC_ACQUIRE);
    }
    if (st == 1)
        return EAGAIN;
    return dynload_pprof_ready();
}

void dynload_postfork_child(void)
{
    /* The thread that was loading them is not in the child: let the
     * child's first pprof dump load them itself instead of waiting 2 s for
     * nobody and failing with EAGAIN. What the parent had loaded before
     * the fork stays (dlopen of a loaded library only counts it again). */
    if (__atomic_load_n(&pprof_state, __ATOMIC_RELAXED) == 1)
        __atomic_store_n(&pprof_state, 0, __ATOMIC_RELAXED);
}

int dynload_pprof_ready(void)
{
    return __atomic_load_n(&dynload_z, __ATOMIC_ACQUIRE) &&
                   __atomic_load_n(&dynload_pb_ok, __ATOMIC_ACQUIRE)
               ? 0
               : ENOENT;
}
