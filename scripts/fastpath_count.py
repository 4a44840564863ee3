# gdb script for scripts/fastpath_count.sh: counts the instructions the
# preloaded allocator executes in malloc, realloc (same class), free and,
# when it defines them, C++ operator new and sized operator delete, from the
# function's first instruction to the return into the caller (tail calls
# followed).
# Environment: FASTPATH_LIB (the library, absolute path), FASTPATH_ROUNDS,
# FASTPATH_TRACE=1 to add the instructions of the shortest round,
# FASTPATH_OUT: the file the results go to (gdb's own chatter stays out).
import os
import gdb

LIB = os.path.realpath(os.environ["FASTPATH_LIB"])
ROUNDS = int(os.environ.get("FASTPATH_ROUNDS", "5"))
TRACE = os.environ.get("FASTPATH_TRACE") == "1"
LIMIT = 100000  # steps; a slow path that runs longer is not a fast path


def pc():
    return int(gdb.parse_and_eval("$pc"))


def sp():
    return int(gdb.parse_and_eval("$sp"))


def in_lib(addr):
    name = gdb.solib_name(addr)
    return name is not None and os.path.realpath(name) == LIB


def step():
    gdb.execute("stepi", to_string=True)


def insn(addr):
    arch = gdb.selected_frame().architecture()
    return arch.disassemble(addr)[0]["asm"]


def count_call():
    """Step from the caller into the library, then count until it returns."""
    n = 0
    while not in_lib(pc()):
        step()
        n += 1
        if n > 1000:
            raise gdb.GdbError("no call into %s after the mark" % LIB)
    sym = gdb.execute("info symbol $pc", to_string=True).split(" in section")[0].strip()
    entry_sp = sp()
    trace = []
    count = 0
    while True:
        if TRACE:
            trace.append("  %#x  %s" % (pc(), insn(pc())))
        step()
        count += 1
        if sp() > entry_sp:  # the ret of the entry point (or of a tail callee)
            return sym, count, trace
        if count > LIMIT:
            raise gdb.GdbError("%s: no return after %d instructions" % (sym, LIMIT))


# What each kind of round calls, in order (fastpath_count.c).
ROUND_CALLS = {
    "fastpath_begin": ("malloc", "realloc", "free"),
    "fastpath_begin_cxx": ("operator new", "operator delete (sized)"),
    "fastpath_begin_large": ("malloc (large, cached)", "free (large, cached)"),
    "fastpath_begin_remote": ("free (remote)",),
}
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set startup-with-shell off")
gdb.execute("set environment LD_PRELOAD " + LIB)
gdb.execute("unset environment MALLOC_CONF")
for name in ROUND_CALLS:
    gdb.Breakpoint(name, internal=True)
gdb.execute("run %d" % ROUNDS, to_string=True)
results = {}
order = []
while True:
    # Stopped at a round's mark (or the program is gone).
    try:
        where = gdb.selected_frame().name()
    except gdb.error:
        break
    if where not in ROUND_CALLS:
        break
    gdb.execute("finish", to_string=True)  # back to the round
    for want in ROUND_CALLS[where]:
        sym, count, trace = count_call()
        if want not in results:
            results[want] = []
            order.append(want)
        results[want].append((count, sym, trace))
    gdb.execute("continue", to_string=True)  # past the round's end, to the next mark or exit
out = open(os.environ["FASTPATH_OUT"], "w")
for want in order:
    counts = [c for c, _, _ in results[want]]
    best = min(results[want], key=lambda t: t[0])
    out.write("%s: %d instructions (entered as %s; rounds: %s)\n" %
              (want, best[0], best[1], " ".join(str(c) for c in counts)))
    if TRACE:
        out.write("\n".join(best[2]) + "\n")
out.close()
