/* libFuzzer target for the pprof reader (jeprof-c/read_pprof.c).
 *   make fuzz && build/fuzz/fuzz_pprof -max_total_time=600 build/fuzz/corpus-pprof
 * tests/fuzz/corpus/pprof
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_one(read_pprof, data, size);
}
