# bench/check_cost: liballoc built without its default-mode misuse checks
# (-DALLOC_NO_MISUSE_CHECKS, liballoc/config.h), only so bench/check_cost/run.sh
# can measure what the checks cost. Never installed, never tested.
NOCHECK_BUILD := $(BUILD)/nocheck
NOCHECK_SO := $(NOCHECK_BUILD)/liballoc.so

# A separate build tree (its own objects); rebuilt when a library source changes.
$(NOCHECK_SO): $(LIBALLOC_VARIANT_DEPS)
	$(MAKE) --no-print-directory -s BUILD=$(NOCHECK_BUILD) CFLAGS="$(CFLAGS) -DALLOC_NO_MISUSE_CHECKS" $@

BENCH_DEPS += $(NOCHECK_SO)
