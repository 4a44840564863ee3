# One build for the allocator, the profiler, the CLI, tests and benchmarks.
# Outputs go to build/ only. Each component keeps its rules in its own .mk.

CC      ?= cc
BUILD   := build
PREFIX  ?= /usr/local
# The project's release, one place: alloc.pc, the .deb, the manuals,
# jeprof-c --version and mallctl("liballoc.version") read it.
ALLOC_VERSION := $(shell cat VERSION)
# The shared library's ABI number: its soname is liballoc.so.$(ALLOC_SOVERSION).
ALLOC_SOVERSION := 0
# MODE=debug turns on invariant checks (config_debug) and -O0.
MODE    ?= release
SAN     ?=
# FREE_LIST_PROTECT=1 encodes the free-list links kept in free blocks
# (liballoc/misuse.h, opt.free_list_protect): a hardened build, slower on
# allocation-bound code (docs/misuse.md). tests/apps/misuse_protect.sh
# builds one in build/protect/.
FREE_LIST_PROTECT ?=

WARN    := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
BASE_CFLAGS := -std=gnu11 -g -fPIC -D_GNU_SOURCE $(WARN) -Iinclude -I$(BUILD)/proto
ifeq ($(MODE),debug)
BASE_CFLAGS += -O0 -DALLOC_DEBUG=1
else
BASE_CFLAGS += -O2
endif
ifeq ($(FREE_LIST_PROTECT),1)
BASE_CFLAGS += -DALLOC_FREE_LIST_PROTECT
endif
ifneq ($(SAN),)
BASE_CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=$(SAN)
endif
CFLAGS  ?=
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)

# The compilers and flags this tree's objects were built with: the object
# rules depend on this stamp, so building into the same tree with other
# flags (MODE=debug, SAN=..., CFLAGS=...) recompiles them instead of
# reusing objects built without those flags. Rewritten only when it changes.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW = $(CC) $(CXX) $(ALL_CFLAGS)
ifneq ($(file < $(FLAGS_STAMP)),$(strip $(FLAGS_NOW)))
$(shell mkdir -p $(BUILD))
$(file > $(FLAGS_STAMP),$(strip $(FLAGS_NOW)))
endif

.PHONY: all test demo bench clean fuzz check-long
.DEFAULT_GOAL := all

ALL_TARGETS :=
TEST_DEPS   :=
BENCH_DEPS  :=

include proto/proto.mk
include liballoc/liballoc.mk
include jeprof-c/jeprof-c.mk
include tests/tests.mk
include tests/unit/unit.mk
include tests/soak/soak.mk
include tests/fuzz/fuzz.mk
include tests/faults/faults.mk
include bench/bench.mk
include examples/examples.mk
include man/man.mk
include packaging/packaging.mk

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

clean:
	rm -rf $(BUILD)
