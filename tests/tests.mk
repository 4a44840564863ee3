# Integration and stress tests: one binary per tests/{integration,stress}/*.c,
# linked against the shared allocator with -lalloc (public API only).
# tests/run.sh runs them. The programs tests/apps/*.sh run are built below.

INTEGRATION_SRCS := $(wildcard tests/integration/*.c)
STRESS_SRCS      := $(wildcard tests/stress/*.c)
INTEGRATION_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEGRATION_SRCS))
STRESS_BINS      := $(patsubst tests/stress/%.c,$(BUILD)/tests/stress/%,$(STRESS_SRCS))
TESTS_HELPERS    := tests/integration/check.h tests/integration/signal_watch.h tests/integration/prof_totals.h

# The compiler must not treat the allocation functions as builtins: it could
# elide a malloc/free pair or fold a NULL check, and the test would then pass
# without calling the allocator at all.
TESTS_CFLAGS = $(ALL_CFLAGS) -Iinclude -fno-builtin-malloc -fno-builtin-calloc \
               -fno-builtin-realloc -fno-builtin-free -fno-builtin-aligned_alloc \
               -fno-builtin-posix_memalign -Wno-alloc-size-larger-than
TESTS_LDLIBS = $(SAN_LDFLAGS) -L$(BUILD) -lalloc -Wl,-rpath,$(abspath $(BUILD)) -lpthread -ldl

$(BUILD)/tests/integration/%: tests/integration/%.c $(TESTS_HELPERS) $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CC) $(TESTS_CFLAGS) $< -o $@ $(TESTS_LDLIBS)

$(BUILD)/tests/stress/%: tests/stress/%.c $(TESTS_HELPERS) $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CC) $(TESTS_CFLAGS) $< -o $@ $(TESTS_LDLIBS)

# The program scripts/fastpath_count.sh single-steps (tests/apps/fastpath_count.sh):
# it links no allocator, the script preloads the one it measures.
$(BUILD)/scripts/fastpath_count: scripts/fastpath_count.c
	@mkdir -p $(dir $@)
	$(CC) $(TESTS_CFLAGS) $< -o $@ $(SAN_LDFLAGS)

TEST_DEPS += $(BUILD)/scripts/fastpath_count

# C++ integration tests (tests/integration/*.cc): the operators new/delete.
# -fno-allocation-dce: the compiler must not pair and drop a new with its delete.
INTEGRATION_CXX_SRCS := $(wildcard tests/integration/*.cc)
INTEGRATION_CXX_BINS := $(patsubst tests/integration/%.cc,$(BUILD)/tests/integration/%,$(INTEGRATION_CXX_SRCS))
TESTS_CXXFLAGS = -std=gnu++17 -g -O2 -fPIC -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
                 -Iinclude -fno-allocation-dce $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer)

$(BUILD)/tests/integration/%: tests/integration/%.cc $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CXX) $(TESTS_CXXFLAGS) $< -o $@ $(TESTS_LDLIBS)

TEST_DEPS += $(INTEGRATION_BINS) $(STRESS_BINS) $(INTEGRATION_CXX_BINS)

# Programs the scripts under tests/apps/ run. Every one is built here, never
# by its script, so it gets the build's flags (MODE, SAN) and no builtin
# folding of allocation calls; the scripts fail if one is missing.
# Linked with -lalloc: the tests' flags as above.
APP_LINKED_BINS := $(BUILD)/tests/decay/burst $(BUILD)/tests/numa/placement \
                   $(BUILD)/tests/prof/churn_bound $(BUILD)/tests/recent/queries \
                   $(BUILD)/tests/apps/ctl_conf_probe $(BUILD)/tests/apps/ctl_stats_print_report \
                   $(BUILD)/tests/apps/ctl_stats_prof_report $(BUILD)/tests/apps/prof_dynload_probe \
                   $(BUILD)/tests/apps/prof_dynload_fork $(BUILD)/tests/apps/valgrind_api
$(APP_LINKED_BINS): $(BUILD)/tests/%: tests/%.c $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CC) $(TESTS_CFLAGS) $< -o $@ $(TESTS_LDLIBS)

# prof_dynload_fork.sh's shim: libz's dlopen made slow (preloaded).
$(BUILD)/tests/apps/libslow_dlopen.so: tests/apps/slow_dlopen.c
	@mkdir -p $(dir $@)
	$(CC) $(PRELOAD_CFLAGS) -fPIC -shared $< -o $@ -ldl

# prof_foreign_shim.sh's library: an exported mallctl that aborts (preloaded).
$(BUILD)/tests/apps/libmallctl_shim.so: tests/apps/mallctl_shim.c
	@mkdir -p $(dir $@)
	$(CC) $(PRELOAD_CFLAGS) -fPIC -shared $< -o $@

# ctl_conf.sh's probe again, with the program's own malloc_conf global set.
$(BUILD)/tests/apps/ctl_conf_probe_global: tests/apps/ctl_conf_probe.c $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CC) $(TESTS_CFLAGS) -DGLOBAL_CONF='"narenas:3"' $< -o $@ $(TESTS_LDLIBS)

# Run under LD_PRELOAD only (not linked with liballoc): MODE's flags but no
# sanitizer, whose runtime must come first in the library list and would
# then be the malloc under test instead of liballoc.
PRELOAD_CFLAGS   = $(filter-out -fsanitize=%,$(TESTS_CFLAGS))
PRELOAD_CXXFLAGS = $(filter-out -fsanitize=%,$(TESTS_CXXFLAGS))
$(BUILD)/tests/thp/thp: tests/thp/thp.c
	@mkdir -p $(dir $@)
	$(CC) $(PRELOAD_CFLAGS) $< -o $@ -ldl
$(BUILD)/tests/apps/cxx_new_delete_preload: tests/integration/cxx_new_delete.cc
	@mkdir -p $(dir $@)
	$(CXX) $(PRELOAD_CXXFLAGS) $< -o $@ -ldl
$(BUILD)/tests/apps/startup_rss_probe: tests/apps/startup_rss_probe.c
	@mkdir -p $(dir $@)
	$(CC) $(PRELOAD_CFLAGS) $< -o $@ -ldl -lpthread
$(BUILD)/tests/apps/fork_preload: tests/apps/fork_preload.c tests/integration/check.h
	@mkdir -p $(dir $@)
	$(CC) $(PRELOAD_CFLAGS) $< -o $@ -lpthread

# Profiling subjects of tests/apps/prof_*.sh (run preloaded, and against
# Debian's jemalloc with PROF_TEST_LIB): each keeps the deliberate flags its
# test is about (frame pointers omitted or kept, -O2, DWARF 4), so they take
# neither MODE nor SAN.
PROF_SUBJECT_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -pthread -fno-builtin-malloc \
                       -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free \
                       -fno-builtin-posix_memalign -fno-builtin-aligned_alloc
$(BUILD)/tests/prof/accuracy: tests/prof/accuracy.c
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -fomit-frame-pointer -gdwarf-4 $< -o $@ -ldl
$(BUILD)/tests/prof/heapv2 $(BUILD)/tests/prof/dumpload $(BUILD)/tests/prof/stress $(BUILD)/tests/prof/temporary $(BUILD)/tests/prof/peak: $(BUILD)/tests/prof/%: tests/prof/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g $< -o $@ -ldl
$(BUILD)/tests/prof/heapv2_fp: tests/prof/heapv2.c
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g -fno-omit-frame-pointer $< -o $@ -ldl
$(BUILD)/tests/prof/libstress_lib.so: tests/prof/stress_lib.c
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g -fPIC -shared $< -o $@
$(BUILD)/tests/prof/http_idle: tests/prof/http_idle.c
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g $< -o $@ -ldl
PROF_SUBJECT_BINS := $(addprefix $(BUILD)/tests/prof/,accuracy heapv2 heapv2_fp dumpload stress libstress_lib.so temporary peak http_idle)

# tests/apps/prof_dual.sh's subject: linked with Debian's libjemalloc (when
# libjemalloc-dev is installed), and with liballoc.a (a second copy of the
# allocator in a program that is also preloaded).
$(BUILD)/tests/prof/dual_jemalloc: tests/prof/dual.c
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g -DDUAL_JEMALLOC $< -o $@ -ljemalloc
$(BUILD)/tests/prof/dual_static: tests/prof/dual.c $(BUILD)/liballoc.a
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g $< -o $@ $(BUILD)/liballoc.a $(LIBALLOC_LIBS)
# ... and a plugin with its own copy (calls bound inside), under a program
# that links it.
$(BUILD)/tests/prof/libdual_plugin.so: tests/prof/dual_plugin.c $(BUILD)/liballoc.a
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g -fPIC -shared -Iinclude -Wl,-Bsymbolic-functions $< -o $@ \
	    $(BUILD)/liballoc.a $(LIBALLOC_LIBS)
$(BUILD)/tests/prof/dual_plugin: tests/prof/dual.c $(BUILD)/tests/prof/libdual_plugin.so
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g -DDUAL_PLUGIN $< -o $@ -L$(BUILD)/tests/prof -ldual_plugin \
	    -Wl,-rpath,$(abspath $(BUILD)/tests/prof)
PROF_SUBJECT_BINS += $(BUILD)/tests/prof/dual_static $(BUILD)/tests/prof/libdual_plugin.so \
                     $(BUILD)/tests/prof/dual_plugin
ifneq ($(wildcard /usr/include/jemalloc/jemalloc.h),)
PROF_SUBJECT_BINS += $(BUILD)/tests/prof/dual_jemalloc
endif

# bench/heaptrack's three programs (leak, peak, churn), for
# tests/apps/heaptrack_side.sh: the flags bench/heaptrack/run.sh uses.
HT_PROGS := $(addprefix $(BUILD)/tests/heaptrack/,leak peak churn)
$(HT_PROGS): $(BUILD)/tests/heaptrack/%: bench/heaptrack/%.c bench/heaptrack/ht_common.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -fno-omit-frame-pointer -fno-builtin-malloc -fno-builtin-free -Wall $< -o $@ -ldl

# The recent ring alone under ThreadSanitizer (tests/apps/recent_tsan.sh): the
# ring's sources with test doubles, -fsanitize=thread on purpose (so no SAN);
# built only when the compiler has a TSan runtime (the script skips otherwise).
RING_TSAN := $(BUILD)/tests/recent/ring_tsan
RING_TSAN_OK := $(shell echo 'int main(void){return 0;}' | $(CC) -fsanitize=thread -x c - -o /dev/null 2>/dev/null && echo yes)
$(RING_TSAN): tests/recent/ring_tsan.c libprof/recent.c libprof/writer.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) -O1 -g -fsanitize=thread -Iliballoc -Ilibprof -Iinclude \
	    $(filter %.c,$^) -o $@ -lpthread

# The site table alone under ThreadSanitizer (tests/apps/prof_site_tsan.sh),
# as the ring above, with test doubles (tests/prof/site_tsan.h): with the
# peak snapshot (peak_tsan), and on the lock-free path of a thread's own
# samples (site_owner_tsan).
SITE_TSAN := $(BUILD)/tests/prof/peak_tsan $(BUILD)/tests/prof/site_owner_tsan
$(SITE_TSAN): $(BUILD)/tests/prof/%: tests/prof/%.c tests/prof/site_tsan.h libprof/site.c libprof/peak.c libprof/pmath.c libprof/prof.h liballoc/options.def
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) -Wno-tsan -O1 -g -fsanitize=thread -Iliballoc -Ilibprof -Iinclude \
	    $(filter %.c,$^) -o $@ -lpthread -lm
TEST_DEPS += $(if $(RING_TSAN_OK),$(SITE_TSAN))

TEST_DEPS += $(APP_LINKED_BINS) $(BUILD)/tests/apps/ctl_conf_probe_global $(BUILD)/tests/thp/thp \
             $(BUILD)/tests/apps/libslow_dlopen.so $(BUILD)/tests/apps/libmallctl_shim.so \
             $(BUILD)/tests/apps/cxx_new_delete_preload $(BUILD)/tests/apps/fork_preload $(BUILD)/tests/apps/startup_rss_probe \
             $(PROF_SUBJECT_BINS) $(HT_PROGS) \
             $(if $(RING_TSAN_OK),$(RING_TSAN))

# tests/cli/jeprof_names.sh's driver: jeprof-c's objects (all but main.o)
# around a table of names, with the CLI's own flags.
NAMES_TABLE := $(BUILD)/tests/cli/names_table
$(NAMES_TABLE): tests/cli/jeprof/names_table.c $(filter-out %/main.o,$(JEPROF_OBJS)) $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ijeprof-c $< -o $@ $(filter %.o,$^) $(SAN_LDFLAGS) $(JEPROF_LIBS)
TEST_DEPS += $(NAMES_TABLE)

# Subjects of the dump-on-signal tests (tests/apps/dump_signal_*.sh,
# tests/cli/jeprof_record_signal.sh): run under LD_PRELOAD, -O2 -g with
# frame pointers, no sanitizer (the preloaded allocator must be the malloc).
DUMPSIG_BINS := $(addprefix $(BUILD)/tests/dumpsig/,idle idle_global forker dlopener libdlib.so hostile)
$(BUILD)/tests/dumpsig/idle $(BUILD)/tests/dumpsig/forker $(BUILD)/tests/dumpsig/dlopener $(BUILD)/tests/dumpsig/hostile: $(BUILD)/tests/dumpsig/%: tests/dumpsig/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g -fno-omit-frame-pointer $< -o $@ -ldl
$(BUILD)/tests/dumpsig/idle_global: tests/dumpsig/idle.c
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g -fno-omit-frame-pointer -rdynamic \
	    -DGLOBAL_CONF='"prof:true,lg_prof_sample:14,prof_prefix:g,prof_dump_signal:USR2,prof_format:pprof"' $< -o $@
$(BUILD)/tests/dumpsig/libdlib.so: tests/dumpsig/dlib.c
	@mkdir -p $(dir $@)
	$(CC) $(PROF_SUBJECT_CFLAGS) -g -fPIC -shared $< -o $@
TEST_DEPS += $(DUMPSIG_BINS)

# tests/cli/jeprof_filebuf.sh's driver: filebuf_map and filebuf_guard.
FILEBUF_MAP := $(BUILD)/tests/cli/filebuf_map
$(FILEBUF_MAP): tests/cli/jeprof/filebuf_map.c $(filter-out %/main.o,$(JEPROF_OBJS)) $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ijeprof-c $< -o $@ $(filter %.o,$^) $(SAN_LDFLAGS) $(JEPROF_LIBS)
TEST_DEPS += $(FILEBUF_MAP)

# tests/apps/misuse.sh: one allocator misuse per run (tests/misuse/).
MISUSE_BINS := $(BUILD)/tests/misuse/misuse
$(MISUSE_BINS): $(BUILD)/tests/%: tests/%.c $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CC) $(TESTS_CFLAGS) $< -o $@ $(TESTS_LDLIBS) -lpthread
TEST_DEPS += $(MISUSE_BINS)

# tests/apps/misuse_protect.sh: the misuse program against a FREE_LIST_PROTECT=1
# build of the library (its own build tree; the program finds it through
# LD_LIBRARY_PATH, which comes before its runpath).
PROTECT_BUILD := $(BUILD)/protect
PROTECT_SO := $(PROTECT_BUILD)/liballoc.so
$(PROTECT_SO): $(LIBALLOC_VARIANT_DEPS)
	$(MAKE) --no-print-directory -s BUILD=$(PROTECT_BUILD) FREE_LIST_PROTECT=1 $@
TEST_DEPS += $(PROTECT_SO)

# tests/apps/misuse_suite.sh: the security suite's kinds of misuse (tests/misuse/suite.cc).
MISUSE_SUITE := $(BUILD)/tests/misuse/suite
$(MISUSE_SUITE): tests/misuse/suite.cc $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CXX) $(TESTS_CXXFLAGS) $< -o $@ $(TESTS_LDLIBS)
TEST_DEPS += $(MISUSE_SUITE)

# bench/run.sh's timer and one benchmark program, for tests/apps/bench_timeit.sh.
TEST_DEPS += $(BUILD)/bench/timeit $(BUILD)/bench/large_blocks
# bench/huge_churn, for tests/apps/huge_churn_live.sh.
TEST_DEPS += $(BUILD)/bench/huge_churn
