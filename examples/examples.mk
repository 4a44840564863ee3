# Example programs: built against the public header only, run under
# LD_PRELOAD (leaky) or linked with -lalloc (the ones that call mallctl).
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRCS))

$(BUILD)/examples/%: examples/%.c $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Iinclude $< -o $@ -L$(BUILD) -lalloc -Wl,-rpath,$(abspath $(BUILD)) -lpthread

ALL_TARGETS += $(EXAMPLE_BINS)
