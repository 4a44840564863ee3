/* plumbing: see plumbing.h. */
#include "plumbing.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "../libprof/drop_frames.h"
#include "analyze.h"
#include "demangle.h"
#include "xalloc.h"
#include "message.h"

/* "^(" DROP_FRAMES_MALLOC "|" DROP_FRAMES_PLUMBING ")$": operator new
 * too, which analyze recognises by display name only (not in full names). */
static regex_t plumbing_re;
static int compiled; /* plumbing_re is ready: 1, failed: -1 */
static int trimmed;  /* plumbing_trim has run */

int plumbing_name(const char *simplified)
{
    if (!compiled) {
        int rc = regcomp(&plumbing_re, "^(" DROP_FRAMES_MALLOC "|" DROP_FRAMES_PLUMBING ")$",
                         REG_EXTENDED | REG_NOSUB);
        compiled = rc == 0 ? 1 : -1;
        if (compiled < 0)
            warning("cannot compile the allocator plumbing regex; plumbing frames are kept");
    }
    return compiled > 0 && regexec(&plumbing_re, simplified, 0, NULL, 0) == 0;
}

/* Is frame f plumbing? cache[id] per name string id: 0 unknown, 1 no, 2 yes. */
static int frame_is_plumbing(const struct profile *p, const struct pframe *f, uint8_t *cache)
{
    uint32_t id = f->sysname && *pstr(p, f->sysname) ? f->sysname : f->name;
    if (!cache[id]) {
        char *name = xstrdup(pstr(p, id));
        /* jeprof's "name@address" for names two symbols share */
        char *at = strrchr(name, '@');
        if (id == f->name && at && at > name && at[1] &&
            strspn(at + 1, "0123456789abcdef") == strlen(at + 1))
            *at = 0;
        char *d = demangle(name);
        char *s = demangle_simplify(d);
        cache[id] = plumbing_name(s) ? 2 : 1;
        free(s);
        free(d);
        free(name);
    }
    return cache[id] == 2;
}

void plumbing_trim(struct profile *p)
{
    trimmed = 1;
    uint8_t *cache = xcalloc(p->strings.n + 1, 1);
    /* per location: index of its first frame that is not plumbing + 1
     * (0: not computed yet), nframes + 1 when all of them are */
    uint32_t *first_user = xcalloc(p->nlocs + 1, sizeof(uint32_t));
    uint32_t *clone = xcalloc(p->nlocs + 1, sizeof(uint32_t)); /* copy without them + 1 */
    uint32_t *tmp = NULL;
    size_t captmp = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        struct psample *s = &p->samples[i];
        if (!s->depth)
            continue;
        const uint32_t *stk = p->stackpool + s->stack;
        uint32_t start = 0;
        for (uint32_t j = 0; j < s->depth; j++)
            if (analyze_loc_is_alloc(p, stk[j]))
                start = j + 1;
        uint32_t j = start, k = 0;
        for (; j < s->depth; j++) {
            uint32_t li = stk[j];
            if (!first_user[li]) {
                const struct ploc *l = &p->locs[li];
                uint32_t f = 0;
                while (f < l->nframes && frame_is_plumbing(p, &p->frames[l->frame0 + f], cache))
                    f++;
                /* An unsymbolized location is never plumbing. */
                first_user[li] = (l->nframes ? f : 0) + 1;
            }
            k = first_user[li] - 1;
            if (k < p->locs[li].nframes || !p->locs[li].nframes)
                break;
        }
        if (j == s->depth || (j == start && k == 0))
            continue; /* all plumbing (kept whole, as pprof does) or none */
        uint32_t li = stk[j];
        if (k > 0) {
            if (!clone[li]) {
                GROW(p->locs, p->caplocs, p->nlocs + 1);
                struct ploc *c = &p->locs[p->nlocs];
                *c = p->locs[li];
                c->frame0 += k;
                c->nframes -= k;
                clone[li] = (uint32_t)++p->nlocs;
            }
            li = clone[li] - 1;
        }
        uint32_t n = start + (s->depth - j);
        GROW(tmp, captmp, n);
        memcpy(tmp, stk, start * sizeof(uint32_t));
        tmp[start] = li;
        memcpy(tmp + start + 1, stk + j + 1, (s->depth - j - 1) * sizeof(uint32_t));
        s->stack = profile_stack(p, tmp, n);
        s->depth = n;
    }
    free(tmp);
    free(clone);
    free(first_user);
    free(cache);
}

const char *plumbing_drop_frames(void)
{
    return trimmed ? "(" DROP_FRAMES_MALLOC "|" DROP_FRAMES_PLUMBING ")"
                   : "(" DROP_FRAMES_MALLOC ")";
}
