/* libFuzzer target for the heapv2 reader (jeprof-c/read_heapv2.c).
 *   make fuzz && build/fuzz/fuzz_heapv2 -max_total_time=600 build/fuzz/corpus-heapv2
 * tests/fuzz/corpus/heapv2
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_one(read_heapv2, data, size);
}
