# liballoc: the allocator. Every module is compiled with hidden visibility;
# only the entry points marked ALLOC_EXPORT are exported, and the version
# script liballoc.map is the list of what liballoc.so exports.

LIBALLOC_SRCS := $(wildcard liballoc/*.c) $(wildcard libprof/*.c)
LIBALLOC_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIBALLOC_SRCS))
# The C++ operators new/delete (g++): a separate object, see below.
LIBALLOC_CXX_SRCS := $(wildcard liballoc/*.cc)
LIBALLOC_CXX_OBJS := $(patsubst %.cc,$(BUILD)/obj/%.o,$(LIBALLOC_CXX_SRCS))
LIBALLOC_MAP := liballoc/liballoc.map
# Each allocator object is relinked with liballoc/text.ld after compilation:
# its code then lies in the section liballoc_text, whose linker-defined
# bounds tell the profiler which frames are the allocator's own in every
# link mode (shared, static, PIE, plugin; see libprof/backtrace.c).
LIBALLOC_TEXT_LD := liballoc/text.ld
# Frame pointers in our own code, so prof_unwind:fp can walk through the allocator's frames.
# No SLP vectorisation: gcc 12 -O2 packs free's two stores into a freed
# block (its link and its free mark, misuse.h) into one SSE store, four
# instructions and a move across register files instead of two plain stores.
LIBALLOC_CFLAGS = $(ALL_CFLAGS) -fvisibility=hidden -ftls-model=initial-exec -fno-plt \
                  -fno-omit-frame-pointer -fno-tree-slp-vectorize \
                  -Iliballoc -Ilibprof -Wno-type-limits -Wno-missing-attributes
LIBALLOC_CXXFLAGS = $(filter-out -std=% -Wstrict-prototypes,$(LIBALLOC_CFLAGS)) -std=gnu++17
# libhttp-parser (prof_http's request parser, libprof/http_req.c) is linked
# statically: no new runtime dependency, and its symbols stay local.
HTTP_PARSER_LIB := $(shell $(CC) -print-file-name=libhttp_parser.a)
ifeq ($(HTTP_PARSER_LIB),libhttp_parser.a)
$(error libhttp_parser.a not found: install libhttp-parser-dev (scripts/deps.sh))
endif
# No libm: its load costs a process ~320 KiB of RSS; the profiler's three
# functions of it are libprof/pmath.c.
# libunwind, zlib and libprotobuf-c are not linked: the profiler loads them
# with dlopen when it runs (libprof/dynload.h), so a process that never
# profiles maps none of them (~220 KiB of RSS with the liblzma libunwind
# pulls in). The headers are still needed to build.
LIBALLOC_LIBS := $(HTTP_PARSER_LIB) -lpthread -ldl
# What a variant of the library built in its own tree by a recursive make
# (build/nocheck for bench/check_cost, build/protect for the tests) depends
# on: rebuilt when any library source changes.
LIBALLOC_VARIANT_DEPS = $(LIBALLOC_SRCS) $(LIBALLOC_CXX_SRCS) $(wildcard liballoc/*.h libprof/*.h) \
                        $(LIBALLOC_MAP)
# The allocator's own copy of the generated protobuf code: its protobuf-c
# calls renamed to libprof/dynload.c's forwarders (libprof/dynload_pb.h),
# so it binds to no libprotobuf-c symbol; jeprof-c links $(PROTO_OBJ).
LIBALLOC_PROTO_OBJ := $(BUILD)/obj/proto/profile.pb-c.alloc.o
# Relinked with text.ld as the allocator's own objects are: its code is
# cold (dump writers only) and goes with theirs (LIBALLOC_SO_OBJS).
$(LIBALLOC_PROTO_OBJ): $(PROTO_SRC) $(PROTO_HDR) libprof/dynload_pb.h $(LIBALLOC_TEXT_LD) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -g -Os -fPIC -fvisibility=hidden -I$(PROTO_DIR) -include libprof/dynload_pb.h \
	    -c $< -o $@.c.o
	$(LD) -r -T $(LIBALLOC_TEXT_LD) -o $@ $@.c.o
	rm -f $@.c.o
# Every object of the library, C and C++, for the link of liballoc.so.
LIBALLOC_ALL_OBJS = $(LIBALLOC_OBJS) $(LIBALLOC_PROTO_OBJ) $(LIBALLOC_CXX_OBJS)
# The same objects as separate members, internals global: only for white-box
# unit tests (tests/unit), never installed.
LIBALLOC_INTERNAL_A := $(BUILD)/obj/liballoc-internal.a
# Names liballoc.a keeps global: what liballoc.so exports (the version
# script's global list) and the hidden alloc_* entry points new_delete.o calls.
LIBALLOC_EXPORTS = $(shell sed -n '/global:/,/local:/p' $(LIBALLOC_MAP) | sed -e 's,/\*.*\*/,,g' \
                     -e 's/global://; s/local://' | tr -s ';[:space:]' '\n\n')

$(BUILD)/obj/%.o: %.c $(PROTO_HDR) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LIBALLOC_CFLAGS) -MMD -MP -c $< -o $@

$(LIBALLOC_OBJS): $(BUILD)/obj/%.o: %.c $(PROTO_HDR) $(LIBALLOC_TEXT_LD) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LIBALLOC_CFLAGS) -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.c.o
	$(LD) -r -T $(LIBALLOC_TEXT_LD) -o $@ $@.c.o $(LIBALLOC_OBJ_LIBS)
	rm -f $@.c.o

# http_req.o takes in the http_parser code it calls (from the static
# archive), so that code lies in liballoc_text with the other cold code.
$(BUILD)/obj/libprof/http_req.o: LIBALLOC_OBJ_LIBS = $(HTTP_PARSER_LIB)

$(BUILD)/obj/liballoc/%.o: liballoc/%.cc $(LIBALLOC_TEXT_LD) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(LIBALLOC_CXXFLAGS) -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.cc.o
	$(LD) -r -T $(LIBALLOC_TEXT_LD) -o $@ $@.cc.o
	rm -f $@.cc.o

-include $(LIBALLOC_OBJS:.o=.d) $(LIBALLOC_CXX_OBJS:.o=.d)

# liballoc.so's copy of the C++ objects: their references to the C++
# runtime (C++ names, __cxa_*, __gxx_*) made weak.
LIBALLOC_CXX_WEAK_OBJS := $(LIBALLOC_CXX_OBJS:.o=.weak.o)
%.weak.o: %.o
	objcopy $$(nm -u $< | awk '$$1 == "U" && $$2 ~ /^(_Z|__cxa_|__gxx_)/ \
	    { printf " --weaken-symbol=%s", $$2 }') $< $@

# mallctl("liballoc.version") answers the project's release (VERSION).
$(BUILD)/obj/liballoc/ctl.o: LIBALLOC_CFLAGS += -DALLOC_RELEASE='"$(ALLOC_VERSION)"'
$(BUILD)/obj/liballoc/ctl.o: VERSION

# -z nodelete: once loaded, never unloaded (a plugin's dlclose must not unmap
# the allocator under live blocks, thread-exit hooks and fork handlers).
# -Bsymbolic-functions: calls from the library to its own exported functions
# (mallctl, malloc_stats_print, ...) bind inside it even when another
# allocator's come first in the search order. No libstdc++: the C++
# operators' references to it are weak (new_delete.cc), bound to the
# program's own libstdc++ when it is a C++ program.
# Objects in the order of LIBALLOC_SO_OBJS, so the code every process runs
# comes first and the cold code last (see there; relinked when that order
# changes). -z pack-relative-relocs
# (DT_RELR, glibc 2.36): the ~950 relative relocations of the library's
# pointer tables in a few hundred bytes instead of 22 KiB of .rela.dyn that
# every process reads at load. -fini: DT_FINI names a function among the hot
# code (malloc.c, alloc_fini), not the C runtime's _fini, which lies after
# all the code and mapped its last window at every exit.
$(BUILD)/liballoc.so: $(LIBALLOC_OBJS) $(LIBALLOC_PROTO_OBJ) $(LIBALLOC_CXX_WEAK_OBJS) $(LIBALLOC_MAP) \
    liballoc/liballoc.mk
	$(CC) -shared -o $@.tmp $(LIBALLOC_SO_OBJS) $(SAN_LDFLAGS) -Wl,-z,now -Wl,-z,nodelete \
	    -Wl,-z,pack-relative-relocs -Wl,-fini=alloc_fini \
	    -Wl,-Bsymbolic-functions -Wl,--version-script=$(LIBALLOC_MAP) \
	    -Wl,-soname,liballoc.so.$(ALLOC_SOVERSION) $(LIBALLOC_LIBS)
	mv -f $@.tmp $@  # atomic: a process starting meanwhile never maps a half-written file
	ln -sf liballoc.so $@.$(ALLOC_SOVERSION)  # the soname, for programs linked with -lalloc

# liballoc.a: the C objects and the protobuf-c generated code combined into one
# relocatable object whose only global definitions are LIBALLOC_EXPORTS (the
# rest made local: no clash with a user's own symbols, e.g. their own
# perftools.profiles code), plus new_delete.o as its own member, which a
# static link pulls in only for a program that uses the C++ operators (C
# programs never need libstdc++).
$(BUILD)/obj/liballoc-all.o: $(LIBALLOC_OBJS) $(LIBALLOC_PROTO_OBJ) $(LIBALLOC_MAP)
	$(LD) -r -o $@.tmp $(filter %.o,$^) $(HTTP_PARSER_LIB)
	objcopy -w $(addprefix --keep-global-symbol=,$(LIBALLOC_EXPORTS)) --keep-global-symbol='alloc_*' \
	    $@.tmp $@
	rm -f $@.tmp

$(BUILD)/liballoc.a: $(BUILD)/obj/liballoc-all.o $(LIBALLOC_CXX_OBJS)
	rm -f $@; ar rcs $@ $^

$(LIBALLOC_INTERNAL_A): $(LIBALLOC_OBJS) $(LIBALLOC_PROTO_OBJ)
	rm -f $@; ar rcs $@ $^

ALL_TARGETS += $(BUILD)/liballoc.so $(BUILD)/liballoc.a $(LIBALLOC_INTERNAL_A)

# Code that runs per mallctl call or per dump, never per allocation or per
# sample (mallctl, statistics, the option reader, the dump writers, the HTTP
# server, symbolisation) is optimised for size: the whole library is
# resident in every process that preloads it (fault-around maps a file this
# small entirely), so its size is every process's RSS. -Os: 36 KiB less
# text (196 -> 160 KiB).
LIBALLOC_COLD_OBJS := $(addprefix $(BUILD)/obj/,liballoc/ctl.o liballoc/stats.o liballoc/conf.o \
    libprof/dump_pprof.o libprof/dump_heapv2.o libprof/http.o libprof/http_req.o \
    libprof/elfsym.o libprof/prof_ctl.o libprof/dump_signal.o libprof/writer.o)
$(LIBALLOC_COLD_OBJS): LIBALLOC_CFLAGS += -Os

# liballoc.so's code layout. A page of a shared library counts in a
# process's RSS once mapped, and the kernel maps a file's pages in 64 KiB
# windows around each one touched (fault-around), so code that most
# processes never run saves RSS only when whole windows of it are never
# touched; and as the library's base address is in general only
# page-aligned, those windows fall anywhere in its code: a cold stretch saves on average its
# length less half a window. The link puts first what every process runs
# (boot, malloc, free, decay), then huge blocks, then the profiler's
# sampling path (prof is off by default, as in jemalloc), and last the code
# that only mallctl, statistics and dumps run (LIBALLOC_COLD_OBJS, the
# protobuf code, http_parser), so that a process which never asks for the
# last ones, or for the profiler either, leaves most of that tail unmapped
# (tests/apps/startup_rss.sh).
# The cold modules' boot functions (stats_boot, http_boot, dump_signal_boot
# and _start) are called only when their option is set; conf.o holds the
# option reader every start runs, so it goes with the hot code. prof.o
# (3.5 KiB) leads the late objects: every process runs its hooks, prof off
# too (prof_boot, prof_boot_late, prof_thread_init/exit, prof_suspend).
# Placed after huge.o and fault.o, its page was the last one a process
# touched, and where the kernel aligns the library's base only to the page
# (tmpfs) the fault-around window around it came within 24 KiB of the end.
LIBALLOC_LATE_OBJS := $(addprefix $(BUILD)/obj/,libprof/prof.o liballoc/huge.o liballoc/fault.o) \
    $(addprefix $(BUILD)/obj/libprof/,backtrace.o cfi.o site.o recent.o dynload.o pmath.o \
    peak.o prof_stats.o scratch.o)
LIBALLOC_LAST_OBJS := $(filter-out $(BUILD)/obj/liballoc/conf.o,$(LIBALLOC_COLD_OBJS)) $(LIBALLOC_PROTO_OBJ)
LIBALLOC_SO_OBJS = $(filter-out $(LIBALLOC_LATE_OBJS) $(LIBALLOC_LAST_OBJS),$(LIBALLOC_OBJS)) \
    $(LIBALLOC_CXX_WEAK_OBJS) $(LIBALLOC_LATE_OBJS) $(LIBALLOC_LAST_OBJS)
