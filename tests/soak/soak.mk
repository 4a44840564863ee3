# The soak (tests/soak, issue 17 point 4): the program, linked with -lalloc,
# and the plugin it dlopens. tests/apps/soak.sh runs it: 20 s in `make test`,
# 30 minutes in `make check-long` (SOAK_SECONDS overrides both).
SOAK_BIN := $(BUILD)/tests/soak/soak
SOAK_LIB := $(BUILD)/tests/soak/libsoak_lib.so
$(SOAK_BIN): tests/soak/soak.c $(BUILD)/liballoc.so
	@mkdir -p $(dir $@)
	$(CC) $(TESTS_CFLAGS) -fno-omit-frame-pointer $< -o $@ $(TESTS_LDLIBS)
$(SOAK_LIB): tests/soak/soak_lib.c
	@mkdir -p $(dir $@)
	$(CC) $(TESTS_CFLAGS) -shared $< -o $@
TEST_DEPS += $(SOAK_BIN) $(SOAK_LIB)
