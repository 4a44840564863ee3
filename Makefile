# One build for the allocator, the profiler, the CLI, tests and benchmarks.
# Outputs go to build/ only. Each component keeps its rules in its own .mk.

CC      ?= cc
BUILD   := build
PREFIX  ?= /usr/local
# MODE=debug turns on invariant checks (config_debug) and -O0.
MODE    ?= release
SAN     ?=

WARN    := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
BASE_CFLAGS := -std=gnu11 -g -fPIC -D_GNU_SOURCE $(WARN) -Iinclude -I$(BUILD)/proto
ifeq ($(MODE),debug)
BASE_CFLAGS += -O0 -DALLOC_DEBUG=1
else
BASE_CFLAGS += -O2
endif
ifneq ($(SAN),)
BASE_CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=$(SAN)
endif
CFLAGS  ?=
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)

.PHONY: all test demo bench install clean fuzz check-long
.DEFAULT_GOAL := all

ALL_TARGETS :=
TEST_DEPS   :=
BENCH_DEPS  :=

include proto/proto.mk
include liballoc/liballoc.mk
include jeprof-c/jeprof-c.mk
include tests/tests.mk
include tests/unit/unit.mk
include bench/bench.mk
include examples/examples.mk

all: $(ALL_TARGETS)

$(BUILD):
	mkdir -p $(BUILD)

# The README's test command: every test kind, one closing "N passed, M failed" line.
test: all $(TEST_DEPS)
	@bash tests/run.sh $(if $(T),--only $(T))

check-long: all $(TEST_DEPS)
	@bash tests/run.sh --long $(if $(T),--only $(T))

bench: all $(BENCH_DEPS)
	@bash bench/run.sh

demo:
	@bash scripts/deps.sh || true
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/jemalloc $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/liballoc.so $(DESTDIR)$(PREFIX)/lib/liballoc.so
	install -m 644 $(BUILD)/liballoc.a $(DESTDIR)$(PREFIX)/lib/liballoc.a
	install -m 644 include/alloc.h $(DESTDIR)$(PREFIX)/include/alloc.h
	install -m 644 include/jemalloc/jemalloc.h $(DESTDIR)$(PREFIX)/include/jemalloc/jemalloc.h
	if [ -x $(BUILD)/jeprof-c ]; then install -m 755 $(BUILD)/jeprof-c $(DESTDIR)$(PREFIX)/bin/jeprof-c; fi
	sed -e 's|@PREFIX@|$(PREFIX)|g' scripts/alloc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/alloc.pc

clean:
	rm -rf $(BUILD)
