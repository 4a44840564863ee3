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

/* Is f a function of the C++ standard library named without its scopes?
 * Without scopes in its DWARF (clang -gline-tables-only, -gmlt) an inlined
 * function is named bare ("allocate", "basic_string", "_M_realloc_insert");
 * an inlined frame (k of location l, not its last: the out-of-line
 * function is named by its symbol) whose source is a standard library
 * header (libstdc++'s .../include/c++/12/bits/new_allocator.h, libc++'s
 * .../c++/v1/) counts as the library code its qualified name would be
 * (plumbing and library below), so the row names the user's function, as
 * with full debug information. */
static int bare_std_frame(const struct profile *p, const struct ploc *l, uint32_t k)
{
    const struct pframe *f = &p->frames[l->frame0 + k];
    if (k + 1 >= l->nframes || !f->file || strstr(pstr(p, f->name), "::"))
        return 0; /* the out-of-line function, no file, or a scoped name */
    const char *file = pstr(p, f->file);
    return strstr(file, "/include/c++/") || strstr(file, "/c++/v1/");
}

/* Is frame f plumbing? cache[id] per name string id: 0 unknown, 1 no, 2 yes. */
static int frame_is_plumbing(const struct profile *p, const struct ploc *l, uint32_t k, uint8_t *cache)
{
    if (bare_std_frame(p, l, k))
        return 1;
    const struct pframe *f = &p->frames[l->frame0 + k];
    uint32_t id = f->sysname && *pstr(p, f->sysname) ? f->sysname : f->name;
    if (!(cache[id] & 3)) {
        char *name = xstrdup(pstr(p, id));
        /* jeprof's "name@address" for names two symbols share */
        char *at = strrchr(name, '@');
        if (id == f->name && at && at > name && at[1] &&
            strspn(at + 1, "0123456789abcdef") == strlen(at + 1))
            *at = 0;
        char *d = demangle(name);
        char *s = demangle_simplify(d);
        cache[id] |= plumbing_name(s) ? 2 : 1;
        free(s);
        free(d);
        free(name);
    }
    return (cache[id] & 3) == 2;
}

/* Is frame f a standard library's (C++ std::/__gnu_cxx::, Rust core::,
 * alloc::, std::, or a trait method of one of their types)? Uses cache
 * like frame_is_plumbing, bits 4 (known) and 8 (yes). */
static int frame_is_library(const struct profile *p, const struct ploc *l, uint32_t k, uint8_t *cache)
{
    if (bare_std_frame(p, l, k))
        return 1;
    const struct pframe *f = &p->frames[l->frame0 + k];
    uint32_t id = f->sysname && *pstr(p, f->sysname) ? f->sysname : f->name;
    if (!(cache[id] & 4)) {
        static const char *const prefixes[] = {"std::", "__gnu_cxx::", "core::", "alloc::"};
        char *d = demangle(pstr(p, id));
        char *s = demangle_simplify(d);
        /* a Rust trait method of a library type: "<&mut core::x::T as ...>::m" */
        const char *t = s;
        t += *t == '<';
        t += *t == '&';
        if (!strncmp(t, "mut ", 4))
            t += 4;
        int lib = 0;
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
            if (!strncmp(t, prefixes[i], strlen(prefixes[i])))
                lib = 1;
        cache[id] |= 4 | (lib ? 8 : 0);
        free(s);
        free(d);
    }
    return (cache[id] & 8) != 0;
}

/* Does location l hold no known function (unsymbolized, or only its
 * "file+0xoffset")? */
static int loc_unnamed(const struct profile *p, const struct ploc *l)
{
    return !l->nframes || (l->nframes == 1 && p->frames[l->frame0].unnamed);
}

void plumbing_trim(struct profile *p)
{
    trimmed = 1;
    uint8_t *cache = xcalloc(p->strings.n + 1, 1);
    /* per location: its copy without its first clone_k[li] frames + 1 */
    uint32_t *clone = xcalloc(p->nlocs + 1, sizeof(uint32_t));
    uint32_t *clone_k = xcalloc(p->nlocs + 1, sizeof(uint32_t));
    /* per location of the input: 0 unknown, 1 not an allocator frame, 2 one */
    size_t nlocs_in = p->nlocs;
    uint8_t *isalloc = xcalloc(nlocs_in + 1, 1);
    uint32_t *tmp = NULL;
    size_t captmp = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        struct psample *s = &p->samples[i];
        if (!s->depth)
            continue;
        const uint32_t *stk = p->stackpool + s->stack;
        uint32_t start = 0;
        for (uint32_t j = 0; j < s->depth; j++) {
            uint32_t li = stk[j];
            if (li < nlocs_in && !isalloc[li])
                isalloc[li] = analyze_loc_is_alloc(p, li) ? 2 : 1;
            if (li < nlocs_in ? isalloc[li] == 2 : analyze_loc_is_alloc(p, li))
                start = j + 1;
        }
        /* The cursor (j, k), frame k of location stk[j], walks from the
         * leaf over the leading plumbing frames. Standard library code
         * between two plumbing frames is plumbing too (format!'s
         * Option::map_or_else between alloc::fmt::format and its
         * closure), and so is a function without a name in the library
         * of the last plumbing frame passed (a static one of libstdc++);
         * the user's code (a closure run by collect) and any other
         * unnamed location stop the walk. */
        uint32_t j = start, k = 0;
        int32_t plumb_map = -1; /* mapping of the last plumbing frame passed */
        for (;;) {
            if (j == s->depth)
                break;
            const struct ploc *l = &p->locs[stk[j]];
            int unnamed = loc_unnamed(p, l);
            if (unnamed && l->map < 0)
                break;
            if (!unnamed && k == l->nframes) {
                j++;
                k = 0;
                continue;
            }
            if (!unnamed && frame_is_plumbing(p, l, k, cache)) {
                plumb_map = l->map;
                k++;
                continue;
            }
            uint32_t jj = j, kk = k;
            int found = 0;
            int32_t unnamed_map = -1; /* mapping of the unnamed locations crossed */
            while (jj < s->depth) {
                const struct ploc *m = &p->locs[stk[jj]];
                if (loc_unnamed(p, m)) {
                    /* an unnamed function of the library whose plumbing
                     * is passed before or after it (a static one of
                     * libstdc++) */
                    if (m->map >= 0 && (unnamed_map < 0 || m->map == unnamed_map)) {
                        unnamed_map = m->map;
                        jj++;
                        kk = 0;
                        continue;
                    }
                    break;
                }
                if (kk == m->nframes) {
                    jj++;
                    kk = 0;
                    continue;
                }
                if (frame_is_plumbing(p, m, kk, cache)) {
                    found = unnamed_map < 0 || unnamed_map == plumb_map || unnamed_map == m->map;
                    break;
                }
                if (!frame_is_library(p, m, kk, cache))
                    break;
                kk++;
            }
            if (!found)
                break;
            j = jj;
            k = kk;
        }
        if (j == s->depth || (j == start && k == 0))
            continue; /* all plumbing (kept whole, as pprof does) or none */
        uint32_t li = stk[j];
        if (k > 0) {
            if (!clone[li] || clone_k[li] != k) {
                GROW(p->locs, p->caplocs, p->nlocs + 1);
                struct ploc *c = &p->locs[p->nlocs];
                *c = p->locs[li];
                c->frame0 += k;
                c->nframes -= k;
                clone[li] = (uint32_t)++p->nlocs;
                clone_k[li] = k;
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
    free(isalloc);
    free(clone);
    free(clone_k);
    free(cache);
}

const char *plumbing_drop_frames(void)
{
    return trimmed ? "(" DROP_FRAMES_MALLOC "|" DROP_FRAMES_PLUMBING ")"
                   : "(" DROP_FRAMES_MALLOC ")";
}
