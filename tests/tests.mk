# Integration and stress tests: one binary per tests/{integration,stress}/*.c,
# linked against the shared allocator with -lalloc (public API only).
# tests/run.sh runs them; tests/apps/*.sh need no build step.

INTEGRATION_SRCS := $(wildcard tests/integration/*.c)
STRESS_SRCS      := $(wildcard tests/stress/*.c)
INTEGRATION_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEGRATION_SRCS))
STRESS_BINS      := $(patsubst tests/stress/%.c,$(BUILD)/tests/stress/%,$(STRESS_SRCS))
TESTS_HELPERS    := tests/integration/check.h

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
