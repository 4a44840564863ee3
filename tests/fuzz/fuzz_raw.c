/* libFuzzer target for jeprof's symbolized profiles and the legacy
 * "heap profile:" text (jeprof-c/read_raw.c).
 *   make fuzz && build/fuzz/fuzz_raw -max_total_time=600 build/fuzz/corpus-raw
 * tests/fuzz/corpus/raw
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Both entry points: the sniffed kind decides in read_profile_mem. */
    if (size >= 13 && memcmp(data, "heap profile:", 13) == 0)
        return fuzz_one(read_legacy_heap, data, size);
    return fuzz_one(read_raw, data, size);
}
