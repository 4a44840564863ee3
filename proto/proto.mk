# proto: profile.proto compiled by protoc-c (Debian protobuf-c-compiler) into
# build/proto/, then into one object that jeprof-c and the allocator's pprof
# writer both link. Users: add $(PROTO_OBJ) to the link, depend on $(PROTO_HDR)
# before compiling a file that includes "profile.pb-c.h" (build/proto is on
# the include path via BASE_CFLAGS), and link -lprotobuf-c.

PROTOC_C  ?= protoc-c
PROTO_DIR := $(BUILD)/proto
PROTO_SRC := $(PROTO_DIR)/profile.pb-c.c
PROTO_HDR := $(PROTO_DIR)/profile.pb-c.h
PROTO_OBJ := $(BUILD)/obj/proto/profile.pb-c.o
PROTO_LIBS := -lprotobuf-c

# protoc-c writes both files in one run (a grouped target, GNU make >= 4.3).
$(PROTO_SRC) $(PROTO_HDR) &: proto/profile.proto
	@mkdir -p $(PROTO_DIR)
	$(PROTOC_C) --proto_path=proto --c_out=$(PROTO_DIR) proto/profile.proto

# Generated code: compiled without our warning set (it is not ours to fix).
$(PROTO_OBJ): $(PROTO_SRC) $(PROTO_HDR) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -g -O2 -fPIC -I$(PROTO_DIR) -c $< -o $@
