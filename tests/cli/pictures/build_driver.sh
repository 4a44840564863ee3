# Sourced by the picture tests (run from the repository root): compiles
# tests/cli/pictures/picture_driver.c with the picture writers into
# build/tests/pictures/picture_driver and sets DRIVER and PICDIR.
PICDIR=build/tests/pictures
DRIVER=$PICDIR/picture_driver
mkdir -p "$PICDIR"
command -v "${CC:-cc}" >/dev/null || { echo "skip: no C compiler"; exit 77; }
tmp_driver=$DRIVER.tmp.$$
"${CC:-cc}" -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -Ijeprof-c \
    tests/cli/pictures/picture_driver.c jeprof-c/flamegraph.c jeprof-c/callgraph.c \
    jeprof-c/demangle.c jeprof-c/xalloc.c jeprof-c/message.c -liberty -lz -lm \
    -o "$tmp_driver" || { echo "FAIL: picture_driver does not compile"; exit 1; }
mv -f "$tmp_driver" "$DRIVER"
