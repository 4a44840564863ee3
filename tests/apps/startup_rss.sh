#!/usr/bin/env bash
# What liballoc costs every process that preloads it in RSS (liballoc.mk,
# LIBALLOC_SO_OBJS; bss_large.h; conf.c's opt):
#  - the library's layout: .data holds no big initialised array (opt's 16
#    KiB of string buffers used to), .bss no big array (they are in
#    liballoc_bss, so the small variables share a few pages), and the relative
#    relocations are packed (DT_RELR) instead of 22 KiB of .rela.dyn;
#  - its code: a process that allocates, frees and starts a thread (prof off,
#    the default) leaves the end of liballoc.so's code unmapped -- the
#    profiler's sampling path, mallctl, statistics and the dump writers --
#    at least TAIL_MIN KiB of it in every run, whatever the library's base
#    address does to the kernel's 64 KiB fault-around windows;
#  - at exit too: DT_FINI is not the C runtime's _fini, which lies after
#    all the code;
#  - and the probe sees a mapping when there is one: after
#    malloc_stats_print, the page of its code is mapped.
. "$(dirname "$0")/lib.sh"
need readelf
need nm
# A release build's layout: -O0 and sanitizer builds have other code sizes,
# and debug builds' canary tables.
prod=$(readelf --debug-dump=info "$LIB" 2>/dev/null | grep -m1 DW_AT_producer)
case "$prod" in *-fsanitize* | *-O0*) skip "not a release build: ${prod##*): }" ;; esac
# The probe reads /proc/self/pagemap in 4 KiB steps, and TAIL_MIN below
# assumes the kernel's default 64 KiB fault-around windows (debugfs shows
# them when mounted).
[ "$(getconf PAGESIZE)" = 4096 ] || skip "pages of $(getconf PAGESIZE) bytes, not 4 KiB"
fab=$(cat /sys/kernel/debug/fault_around_bytes 2>/dev/null)
case "$fab" in "" | 65536) ;; *) skip "fault_around_bytes is $fab, not 65536" ;; esac
# 24: the old layout left 16 KiB; this one leaves 32-96 (1000 runs at
# page-aligned bases), with room for a code path a run takes now and then.
TAIL_MIN=24
PROBE=$(app_bin apps/startup_rss_probe) || exit 1

section_hex() { readelf -SW "$LIB" | sed 's/^ *\[ *[0-9]*\] *//' | awk -v n="$1" '$1 == n { print $5 }'; }
data=$(section_hex .data)
bss=$(section_hex .bss)
relr=$(section_hex .relr.dyn)
rela=$(section_hex .rela.dyn)
[ -n "$data" ] && [ -n "$bss" ] || fail "no .data or .bss in $LIB"
[ $((16#$data)) -le 8192 ] || fail ".data is $((16#$data)) bytes (over 8 KiB: a big initialised array?)"
[ $((16#$bss)) -le 32768 ] || fail ".bss is $((16#$bss)) bytes (over 32 KiB: a big array without BSS_LARGE?)"
[ -n "$relr" ] || fail "no .relr.dyn: relative relocations not packed (-z pack-relative-relocs)"
[ $((16#${rela:-0})) -le 8192 ] || fail ".rela.dyn is $((16#$rela)) bytes (over 8 KiB)"
echo "layout: .data $((16#$data)) B, .bss $((16#$bss)) B, .relr.dyn $((16#$relr)) B, .rela.dyn $((16#${rela:-0})) B"

# The last TAIL_MIN KiB of liballoc.so's code unmapped in a run of the probe
# preloaded with the library file $1 (run label $2); min_tail keeps the least.
check_tail() { # lib label
    local out end last tail_kb
    out=$(env LD_PRELOAD="$1" "$PROBE") || fail "probe exited $? ($2)"
    end=$(echo "$out" | awk '$1 == "vma" { print $3 }')
    [ -n "$end" ] || fail "probe found no liballoc.so code mapping ($2)"
    last=$(echo "$out" | awk '$1 == "mapped" { print $2 }' | tail -1)
    [ -n "$last" ] || fail "probe saw no mapped page of liballoc.so's code ($2)"
    tail_kb=$(((16#$end - 16#$last - 4096) / 1024))
    [ -z "$min_tail" ] || [ "$tail_kb" -lt "$min_tail" ] && min_tail=$tail_kb
    [ "$tail_kb" -ge $TAIL_MIN ] ||
        fail "$2: the last $tail_kb KiB of liballoc.so's code unmapped, want >= $TAIL_MIN (last mapped page 0x$last of 0x$end)"
}
min_tail=
for run in 1 2 3 4 5 6 7; do
    check_tail "$LIB" "run $run"
done
# The fault-around windows are aligned on virtual addresses. Where the
# kernel maps a file of 2 MiB or more (liballoc.so with its .bss) 2 MiB
# aligned, as ext4's does, every run above sees the same windows; on tmpfs
# the base is random to the page, so these runs see the others (40 runs:
# each of the 16 offsets a 64 KiB window can have is missed with odds
# (15/16)^40, 8%; a layout that fails at 2 of them, 0.5%).
shm=/dev/shm
if [ -d "$shm" ] && [ -w "$shm" ] && [ "$(stat -f -c %T "$shm")" = tmpfs ]; then
    shm_lib=$(mktemp "$shm/liballoc.so.XXXXXX") && cp "$LIB" "$shm_lib" ||
        fail "cannot copy $LIB to $shm"
    cleanup_hooks="rm -f '$shm_lib'; $cleanup_hooks"
    if env LD_PRELOAD="$shm_lib" true 2>&1 | grep -q .; then
        echo "note: $shm does not map code (noexec?): runs at page-aligned bases skipped"
    else
        for run in $(seq 40); do
            check_tail "$shm_lib" "run $run on $shm (a page-aligned base)"
        done
    fi
else
    echo "note: no tmpfs at $shm: runs at page-aligned bases skipped"
fi
echo "code: at least $min_tail KiB at the end of liballoc.so's code left unmapped in every run"

# At exit the dynamic loader calls DT_FINI: a function among the cold code
# (the C runtime's _fini, linked after all of it) would map the code's last
# window into every exiting process, and its peak RSS with it.
fini=$(readelf -d "$LIB" | awk '/\(FINI\)/ { print $3 }')
ctl=$(nm "$LIB" | awk '$3 == "mallctl" { print $1 }')
[ -n "$fini" ] && [ -n "$ctl" ] || fail "no DT_FINI or no mallctl in $LIB"
[ $((fini)) -lt $((16#$ctl)) ] ||
    fail "DT_FINI ($fini) lies among the cold code (mallctl at 0x$ctl): exit maps it"
echo "exit: DT_FINI at $fini, before the cold code (mallctl at 0x$ctl)"

sym=$(nm "$LIB" | awk '$3 == "malloc_stats_print" { print $1 }')
[ -n "$sym" ] || fail "no malloc_stats_print in $LIB"
page=$(printf '%x' $((16#$sym & ~4095)))
out=$(preload "$PROBE" stats) || fail "probe stats exited $?"
echo "$out" | grep -qx "mapped $page" || fail "after malloc_stats_print its page 0x$page is not seen mapped"
echo "pass: control: malloc_stats_print's page 0x$page mapped once it ran"
