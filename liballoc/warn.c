/* warn: one funnel for run-time warnings, honouring opt.abort (see warn.h). */
#include "warn.h"
#include "config.h"
#include "options.h"

#include <stdlib.h>

void warn_print(const char *msg)
{
    alloc_write_err(msg);
    if (opt.abort)
        abort();
}
