#!/usr/bin/env bash
# liballoc.so does not pull the C++ runtime into a C program: its C++
# operators reference libstdc++ weakly (liballoc/new_delete.cc), so a
# preloaded C program maps no libstdc++ (about 0.9 MB of resident memory
# that mimalloc's preload does not cost either), while a C++ program's
# operators still bind to its own libstdc++ (tests/apps/cxx_preload.sh runs
# bad_alloc and the new-handler loop under LD_PRELOAD). Nor libm (the
# profiler's log, expm1 and llround are libprof/pmath.c: libm's load faults
# in ~320 KiB), nor libnuma on a machine sysfs says has one node (~44 KiB),
# nor, without prof, libunwind, liblzma, zlib and libprotobuf-c.
. "$(dirname "$0")/lib.sh"
need readelf
check_preload_maps

needed=$(readelf -d "$LIB" | grep NEEDED)
grep -q 'libstdc++' <<<"$needed" && fail "liballoc.so depends on libstdc++: $needed"
echo "pass: no DT_NEEDED libstdc++"

# cat is a C program: under our preload its map must not list libstdc++.
maps=$(env -u MALLOC_CONF LD_PRELOAD="$LIB" cat /proc/self/maps) || fail "preloaded cat failed"
grep -q 'liballoc' <<<"$maps" || fail "liballoc.so is not mapped in the preloaded cat"
grep -q 'libstdc++' <<<"$maps" && fail "a preloaded C program maps libstdc++"
echo "pass: a preloaded C program maps no libstdc++"

grep -q 'libm\.so' <<<"$needed" && fail "liballoc.so depends on libm: $needed"
grep -q '/libm\.so' <<<"$maps" && fail "a preloaded cat maps libm"
echo "pass: no libm"
# Nor the profiler's libunwind (with the liblzma it needs), zlib and
# libprotobuf-c: loaded with dlopen only by a process that profiles
# (libprof/dynload.h; tests/apps/prof_dynload.sh), ~220 KiB of RSS.
grep -qE 'libunwind|libprotobuf-c|libz\.so' <<<"$needed" && fail "liballoc.so links the profiler's libraries: $needed"
prof_libs=$(grep -oE '/(libunwind|liblzma|libz|libprotobuf-c)\.so[.0-9]*' <<<"$maps" | sort -u | tr '\n' ' ')
[ -z "$prof_libs" ] || fail "a preloaded cat that never profiles maps $prof_libs"
echo "pass: no libunwind, liblzma, libz, libprotobuf-c without prof"
online=$(cat /sys/devices/system/node/online 2>/dev/null)
if [[ $online =~ ^[0-9]+$ ]]; then
	grep -q 'libnuma' <<<"$maps" && fail "one NUMA node ($online), yet libnuma is mapped"
	echo "pass: one node, no libnuma"
else
	echo "nodes online: '${online:-unknown}': libnuma may be loaded"
fi

# The weak references are the C++ runtime's only (an unresolved weak libc
# function would be a silent null call), and glibc's __dlclose, which
# libprof/cfi.c's dlclose calls only when it resolved (-static programs).
weak=$(nm -D "$LIB" | awk '$1 == "w" { print $2 }' | grep -vE '^(_Z|__cxa_|__gxx_|_ITM_|__gmon_start__|__dlclose$)')
[ -z "$weak" ] || fail "unexpected weak references in liballoc.so: $weak"
echo "pass: only C++ runtime references are weak"
exit 0
