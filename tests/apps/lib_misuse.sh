# Shared by tests/apps/misuse*.sh (run.sh skips lib*).
# reported FUNC ADDR FILE: FILE has the report "<jemalloc>: FUNC(): ... ADDR",
# or, for a corrupted free list whose damaged block could not be found again
# (its new owner already wrote over it, liballoc/misuse.h), the report
# naming the page that holds ADDR: "... in the page at P", P <= ADDR < P + 1 MiB.
reported() {
    local f=$1 addr=$2 file=$3 page
    grep -q "^<jemalloc>: $f(): .* $addr\$" "$file" && return 0
    page=$(sed -n "s/^<jemalloc>: $f(): corrupted free list .* in the page at \(0x[0-9a-f]*\)\$/\1/p" "$file" | head -1)
    [ -n "$page" ] && [ -n "$addr" ] || return 1
    local a=$((addr)) p=$((page))
    [ $a -ge $p ] && [ $a -lt $((p + 1048576)) ]
}

# The cases of tests/misuse/misuse.c that misuse the allocator (each must be
# reported with its address): misuse.sh runs them in the default mode and
# under abort:true, misuse_modes.sh under other MALLOC_CONF settings.
misuse_cases_bad="double_small double_small8 double_small8_later double_small_later double_small_big double_large
double_large_slabs_between
double_huge double_calloc double_xthread double_xthread_remote2 double_after_exit
double_full_page interior_small interior_small48 misaligned interior_large
interior_large_first interior_huge stack global mmap_region wild realloc_freed
realloc_interior rallocx_freed sdallocx_double dallocx_double dallocx_tcache_double
tcache_then_free never_handed_out uaf_link uaf_link8 uaf_link_remote uaf_link_null uaf_link_null_remote
uaf_link_null_remote_splice"

# Expected function name in the report per case (free unless listed).
func_of() {
    case "$1" in
    realloc_*) echo realloc ;;
    rallocx_*) echo rallocx ;;
    uaf_link*) echo malloc ;;
    sdallocx_*) echo sdallocx ;;
    dallocx_tcache_double) echo dallocx ;;
    *) echo free ;;
    esac
}
