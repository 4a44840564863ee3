# jeprof-c: the analysis CLI. Never links liballoc. Every source must
# compile: a failure stops the build (no stand-in objects).
#
# make fuzz: builds the libFuzzer targets (clang) into build/fuzz/; a long
# run of one target, e.g. ten minutes:
#   build/fuzz/fuzz_heapv2 -max_total_time=600 -max_len=65536 \
#       build/fuzz/corpus-heapv2 tests/fuzz/corpus/heapv2

JEPROF_SRCS := $(sort $(wildcard jeprof-c/*.c))
JEPROF_OBJS := $(patsubst jeprof-c/%.c,$(BUILD)/obj/jeprof-c/%.o,$(JEPROF_SRCS))
JEPROF_LIBS := -ldw -lelf -ldeflate -lzstd -lz -lprotobuf-c -liberty -lm

$(BUILD)/obj/jeprof-c/%.o: jeprof-c/%.c $(PROTO_HDR) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ijeprof-c -MMD -MP -c $< -o $@

-include $(JEPROF_OBJS:.o=.d)

# jeprof-c --version prints the project's release (VERSION).
$(BUILD)/obj/jeprof-c/main.o: ALL_CFLAGS += -DALLOC_RELEASE='"$(ALLOC_VERSION)"'
$(BUILD)/obj/jeprof-c/main.o: VERSION

$(BUILD)/jeprof-c: $(JEPROF_OBJS) $(PROTO_OBJ)
	$(CC) -o $@ $^ $(SAN_LDFLAGS) $(JEPROF_LIBS)

ALL_TARGETS += $(BUILD)/jeprof-c

# libFuzzer targets: the three readers, compiled with sanitizers.
FUZZ_CC     ?= clang
FUZZ_FLAGS  := -std=gnu11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined -Ijeprof-c -I$(BUILD)/proto
# The support modules every reader needs, then the readers and writers.
JEPROF_SUPPORT_SRCS := jeprof-c/xalloc.c jeprof-c/message.c jeprof-c/filebuf.c jeprof-c/strtab.c \
               jeprof-c/hash.c jeprof-c/clock.c
FUZZ_LIBSRC := $(JEPROF_SUPPORT_SRCS) jeprof-c/profile.c jeprof-c/read.c jeprof-c/read_heapv2.c \
               jeprof-c/read_pprof.c jeprof-c/read_recent.c jeprof-c/read_raw.c jeprof-c/json.c \
               jeprof-c/analyze.c jeprof-c/report_text.c jeprof-c/report_collapsed.c \
               jeprof-c/report_json.c jeprof-c/report_traces.c jeprof-c/report_tree.c \
               jeprof-c/report_callgrind.c jeprof-c/report_raw.c jeprof-c/demangle.c
FUZZ_TARGETS := $(BUILD)/fuzz/fuzz_heapv2 $(BUILD)/fuzz/fuzz_pprof $(BUILD)/fuzz/fuzz_recent \
                $(BUILD)/fuzz/fuzz_raw $(BUILD)/fuzz/fuzz_http

# The profile server's request parser (libprof/http_req.c, prof_http) over
# the static libhttp-parser liballoc links.
$(BUILD)/fuzz/fuzz_http: tests/fuzz/fuzz_http.c libprof/http_req.c libprof/http_req.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ilibprof -o $@ $< libprof/http_req.c $(HTTP_PARSER_LIB)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_LIBSRC) $(wildcard jeprof-c/*.h) \
                   $(PROTO_SRC) $(PROTO_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIBSRC) $(PROTO_SRC) -lz -lprotobuf-c -liberty -lm

fuzz-build: $(FUZZ_TARGETS)

# When clang's libFuzzer runtime is installed (Debian libclang-rt-14-dev),
# `make test` builds the fuzzers so tests/cli/fuzz_smoke.sh can run them.
FUZZ_RT := $(shell $(FUZZ_CC) -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-x86_64.a
ifneq ($(wildcard $(FUZZ_RT)),)
TEST_DEPS += $(FUZZ_TARGETS)
endif
