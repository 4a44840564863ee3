# liballoc: the allocator. Every module is compiled with hidden visibility;
# only the entry points marked ALLOC_EXPORT are exported.

LIBALLOC_SRCS := $(wildcard liballoc/*.c) $(wildcard libprof/*.c)
LIBALLOC_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIBALLOC_SRCS))
# Frame pointers in our own code, so prof_unwind:fp can walk through the allocator's frames.
LIBALLOC_CFLAGS = $(ALL_CFLAGS) -fvisibility=hidden -ftls-model=initial-exec -fno-plt \
                  -fno-omit-frame-pointer \
                  -Iliballoc -Ilibprof -Wno-type-limits -Wno-missing-attributes
LIBALLOC_LIBS := -lunwind -lprotobuf-c -lz -lpthread -ldl -lm

$(BUILD)/obj/%.o: %.c $(PROTO_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(LIBALLOC_CFLAGS) -MMD -MP -c $< -o $@

-include $(LIBALLOC_OBJS:.o=.d)

$(BUILD)/liballoc.so: $(LIBALLOC_OBJS) $(PROTO_OBJ)
	$(CC) -shared -o $@.tmp $^ $(SAN_LDFLAGS) -Wl,-z,now -Wl,-soname,liballoc.so $(LIBALLOC_LIBS)
	mv -f $@.tmp $@  # atomic: a process starting meanwhile never maps a half-written file

$(BUILD)/liballoc.a: $(LIBALLOC_OBJS) $(PROTO_OBJ)
	rm -f $@; ar rcs $@ $^

ALL_TARGETS += $(BUILD)/liballoc.so $(BUILD)/liballoc.a
