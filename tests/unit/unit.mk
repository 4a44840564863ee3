# White-box unit tests: each tests/unit/*.c links the allocator's objects
# directly (static), so it can reach internal functions and replace seams
# (os_ops, the NUMA topology). Their malloc is ours.
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBALLOC_INTERNAL_A) tests/integration/check.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iliballoc -Ilibprof -Iinclude -Itests/integration -MMD -MP $< -o $@ \
	    $(LIBALLOC_INTERNAL_A) $(SAN_LDFLAGS) $(HTTP_PARSER_LIB) -lunwind -lprotobuf-c -lz -lpthread -ldl -lm

TEST_DEPS += $(UNIT_BINS)
# Header dependencies: a unit test inlines the allocator's fast paths.
-include $(UNIT_BINS:=.d)
