# Fuzzing of the allocator's own parsers (issue 17 point 2), beside the
# reader targets of jeprof-c.mk:
#   fuzz_conf     the MALLOC_CONF grammar (liballoc/conf.c) from its three
#                 sources, with invariant checks;
#   fuzz_mallctl  mallctl / mallctlnametomib / mallctlbymib over the whole
#                 allocator, compiled with ASan+UBSan+coverage (build/fuzz/obj).
# `make fuzz-build` builds every target; `make fuzz` builds them and runs
# each FUZZ_SECONDS (default 600) with -jobs=1 from its seed corpus
# tests/fuzz/corpus/<name> (working corpus build/fuzz/corpus-<name>,
# findings in build/fuzz/findings-<name>), see scripts/fuzz_run.sh.
FUZZ_SECONDS ?= 600
# The readers' flags without -Ijeprof-c (its options.h is not the allocator's).
FUZZ_OWN_FLAGS = $(filter-out -Ijeprof-c,$(FUZZ_FLAGS))

$(BUILD)/fuzz/fuzz_conf: tests/fuzz/fuzz_conf.c liballoc/conf.c liballoc/options.h liballoc/options.def \
                        liballoc/config.h liballoc/warn.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_OWN_FLAGS) -Iliballoc -Iinclude -o $@ tests/fuzz/fuzz_conf.c liballoc/conf.c

# The allocator's objects for fuzz_mallctl: the library's own flags with
# clang, the sanitizers and coverage, relinked with text.ld as in liballoc.mk.
FUZZ_LIB_CFLAGS = $(filter-out -O2 -O0 -fsanitize=%,$(LIBALLOC_CFLAGS)) -O1 \
                  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(LIBALLOC_SRCS)) $(BUILD)/fuzz/obj/proto.o
$(BUILD)/fuzz/obj/%.o: %.c $(PROTO_HDR) $(LIBALLOC_TEXT_LD)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -Wno-unknown-warning-option -DALLOC_RELEASE='"$(ALLOC_VERSION)"' \
	    -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.c.o
	$(LD) -r -T $(LIBALLOC_TEXT_LD) -o $@ $@.c.o
	rm -f $@.c.o
# Header dependencies: a changed options.def or struct must rebuild every
# object that sees it (stale objects disagree on layouts).
-include $(FUZZ_LIB_OBJS:.o=.d)
$(BUILD)/fuzz/obj/proto.o: $(PROTO_SRC) $(PROTO_HDR) libprof/dynload_pb.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -fsanitize=fuzzer-no-link,$(FUZZ_LIB_CFLAGS)) -w -include libprof/dynload_pb.h \
	    -c $(PROTO_SRC) -o $@
# One object whose only globals are the jemalloc API the harness calls and
# the tree root it walks: the malloc family is local, so ASan's malloc
# serves the process and liballoc's serves mallocx and its internals.
FUZZ_LIB_KEEP := mallctl mallctlnametomib mallctlbymib mallocx dallocx sallocx nallocx rallocx \
                 xallocx sdallocx malloc_stats_print malloc_conf malloc_message ctl_root
$(BUILD)/fuzz/liballoc-fuzz.o: $(FUZZ_LIB_OBJS)
	$(LD) -r -o $@.tmp $^
	objcopy -w $(addprefix --keep-global-symbol=,$(FUZZ_LIB_KEEP)) $@.tmp $@
	rm -f $@.tmp
$(BUILD)/fuzz/fuzz_mallctl: tests/fuzz/fuzz_mallctl.c $(BUILD)/fuzz/liballoc-fuzz.o
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_OWN_FLAGS) -Iliballoc -Ilibprof -Iinclude -o $@ $^ $(LIBALLOC_LIBS)

FUZZ_OWN_TARGETS := $(BUILD)/fuzz/fuzz_conf $(BUILD)/fuzz/fuzz_mallctl
fuzz-build: $(FUZZ_TARGETS) $(FUZZ_OWN_TARGETS)
fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz_run.sh
.PHONY: fuzz-build
ifneq ($(wildcard $(FUZZ_RT)),)
TEST_DEPS += $(FUZZ_OWN_TARGETS)
endif
