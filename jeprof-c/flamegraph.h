/*
 * flamegraph: writes an interactive flame graph as one self-contained SVG 1.1
 * file (the --flamegraph=FILE output of jeprof-c).
 *
 * Stacks are merged into a tree (identical prefixes share a frame, children
 * are ordered by name) and drawn root at the bottom, widths proportional to
 * value. Frames narrower than 0.1 px are dropped. The embedded ECMAScript
 * shows details on hover, zooms on click, and searches by regular expression
 * (Ctrl-F or the "Search" button; Ctrl-I toggles case). For tests and tools,
 * the script exposes fg_search(re), fg_reset_search(), fg_zoom(i),
 * fg_unzoom() and fg_matched() on window.
 *
 * Differential graph (opt->diff, Brendan Gregg's difffolded convention): the
 * widths are the new profile's values, the colour is the change from base:
 * red for growth, blue for shrinkage, white-ish for little change, with an
 * intensity of |new - old| / max(new, old) (so a frame that doubled is as
 * red as any other frame that doubled); grey for no change. A frame whose
 * new value is 0 has no width and is not drawn, as in flamegraph.pl (swap
 * the two profiles to see what vanished: it then shows as growth). Tooltips
 * read "name (new N unit, P%; old O unit; delta +D unit, +R%)" (R is "new"
 * when old was 0).
 *
 * Pure function of its input: no global state, safe to call from any thread
 * on distinct FILEs. Cost is O(F log F) in the total number of frames F.
 */
#ifndef JEPROF_FLAMEGRAPH_H
#define JEPROF_FLAMEGRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One call stack and the value (bytes or objects) attributed to it. */
struct fg_stack {
    const char *const *frames; /* function names, root first */
    size_t nframes;            /* entries in frames; 0 counts toward the root only */
    uint64_t value;            /* bytes or objects; 0 is ignored (unless diff and base) */
    uint64_t base;             /* diff: the value in the base (old) profile */
};

/* How to draw the graph; every field may be 0/NULL for its default. */
struct fg_options {
    const char *title; /* e.g. "Heap: inuse_space"; " (unit)" is appended */
    const char *unit;  /* "bytes" (default) or "objects" */
    int width;         /* image width in px; 0 = 1200 */
    int diff;          /* differential graph: stacks carry base values too */
    const char *subtitle; /* a second line under the title, or NULL */
};

/*
 * Writes the SVG to out (which should be buffered). Returns 0, EINVAL for a
 * NULL frame name or stacks==NULL with nstacks>0, EOVERFLOW when the values
 * sum past 2^64, ENOMEM, or the errno of a failed write.
 */
int flamegraph_write_svg(FILE *out, const struct fg_stack *stacks, size_t nstacks,
                         const struct fg_options *opt) __attribute__((warn_unused_result));

/* Writes at most maxchars characters of s as XML character data: markup
 * characters become entities, control characters and invalid UTF-8 '?', so
 * any name keeps a document well-formed (also used by the growth chart). */
void flamegraph_put_xml(FILE *out, const char *s, size_t maxchars);

#endif
