/* libFuzzer target for the recent reader (jeprof-c/read_recent.c).
 *   make fuzz && build/fuzz/fuzz_recent -max_total_time=600 build/fuzz/corpus-recent
 * tests/fuzz/corpus/recent
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_one(read_recent, data, size);
}
