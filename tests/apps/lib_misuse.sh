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
