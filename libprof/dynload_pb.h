/*
 * dynload_pb: the protobuf-c entry points the generated profile.pb-c.c and
 * the pprof writer call, renamed to dynload.c's forwarders (which reach
 * libprotobuf-c through dlopen) so the allocator's copy of the generated
 * code binds to no libprotobuf-c symbol. Included first (-include, and by
 * dynload.c and dump_pprof.c) so protobuf-c.h declares the renamed names.
 * jeprof-c's copy of the generated code is compiled without it and links
 * libprotobuf-c as usual.
 */
#ifndef DYNLOAD_PB_H
#define DYNLOAD_PB_H

#define protobuf_c_message_get_packed_size dynload_pb_get_packed_size
#define protobuf_c_message_pack dynload_pb_pack
#define protobuf_c_message_pack_to_buffer dynload_pb_pack_to_buffer
#define protobuf_c_message_unpack dynload_pb_unpack
#define protobuf_c_message_free_unpacked dynload_pb_free_unpacked
#define protobuf_c_empty_string dynload_pb_empty_string

#endif
