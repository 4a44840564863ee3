# bench/sample_cost: the per-sample cost microbenchmark. Unlike bench/*.c it
# links the allocator's internal archive, so it can time the profiler's own
# functions (unwinders, site table) one by one.
SAMPLE_COST_BIN := $(BUILD)/bench/sample_cost

$(SAMPLE_COST_BIN): bench/sample_cost/sample_cost.c $(LIBALLOC_INTERNAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fno-omit-frame-pointer -Iliballoc -Ilibprof -Iinclude -I$(BUILD) $< -o $@ \
	    $(LIBALLOC_INTERNAL_A) $(LIBALLOC_LIBS)

BENCH_DEPS += $(SAMPLE_COST_BIN)
