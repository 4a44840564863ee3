# Fault-injection tests (tests/faults, issue 17 point 3): programs linked
# with -lalloc that arm debug.fault (liballoc/fault.h). tests/apps/faults.sh
# runs them: a short deterministic set in `make test`, randomised runs in
# `make check-long`.
FAULT_C_BINS := $(patsubst tests/faults/%.c,$(BUILD)/tests/faults/%,$(wildcard tests/faults/*.c))
FAULT_CXX_BINS := $(patsubst tests/faults/%.cc,$(BUILD)/tests/faults/%,$(wildcard tests/faults/*.cc))
$(FAULT_C_BINS): $(BUILD)/tests/faults/%: tests/faults/%.c tests/faults/fault_common.h liballoc/fault.h \
                 $(TESTS_HELPERS) $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CC) $(TESTS_CFLAGS) -Iliballoc $< -o $@ $(TESTS_LDLIBS) -lz
$(FAULT_CXX_BINS): $(BUILD)/tests/faults/%: tests/faults/%.cc liballoc/fault.h $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CXX) $(TESTS_CXXFLAGS) -Iliballoc $< -o $@ $(TESTS_LDLIBS)
TEST_DEPS += $(FAULT_C_BINS) $(FAULT_CXX_BINS)
