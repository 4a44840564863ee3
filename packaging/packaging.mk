# Installation and packaging: make install, make install-jemalloc-compat,
# make deb. Paths follow the GNU names; DESTDIR is honoured by every rule.
#
#   make install PREFIX=/usr/local          library, headers, alloc.pc, jeprof-c, manuals
#   make install-jemalloc-compat            also <jemalloc/jemalloc.h>, -ljemalloc and
#                                           jemalloc.pc answered by liballoc (opt-in: these
#                                           names belong to jemalloc; see README)
#   make deb                                build/liballoc_<version>-1_<arch>.deb (dpkg-deb;
#                                           DEB_MAINTAINER="Name <addr>" names the maintainer,
#                                           LINTIAN=none skips lintian)

BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

# What a static link of liballoc.a needs besides the archive: the libraries
# liballoc.so is linked with (LIBALLOC_LIBS) closed over their own static
# dependencies as their pkg-config files state (libunwind.a needs liblzma).
# A missing .pc file stops the install rather than writing a wrong alloc.pc.
# -lgcc_eh comes first: libunwind.a also defines the _Unwind_* functions a
# static C++ program takes from libgcc_eh (which g++ -static appends last),
# and whichever archive comes first must serve them all, or the link fails
# with "multiple definition of _Unwind_Resume".
ALLOC_PC_DEPS := libunwind libprotobuf-c zlib

.PHONY: install install-jemalloc-compat deb alloc-pc-force

# Made at install time (PREFIX and LIBDIR are install-time choices). libdir
# and includedir are written relative to ${prefix} when they lie under it,
# so `pkg-config --define-prefix` can relocate a copied tree.
$(BUILD)/alloc.pc: scripts/alloc.pc.in alloc-pc-force | $(BUILD)
	@static=$$(pkg-config --static --libs $(ALLOC_PC_DEPS)) || \
	    { echo "error: pkg-config cannot resolve $(ALLOC_PC_DEPS) (install their -dev packages)" >&2; exit 1; }; \
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|g' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|g' \
	    -e 's|@VERSION@|$(ALLOC_VERSION)|g' \
	    -e "s|@LIBS_PRIVATE@|$$(echo -lgcc_eh $$static $(filter-out $(addprefix -l,unwind protobuf-c z),$(LIBALLOC_LIBS)))|g" \
	    $< > $@.tmp
	mv -f $@.tmp $@

# The header that answers #include <jemalloc/jemalloc.h>, installed outside
# the include root's own jemalloc/ (which belongs to Debian's libjemalloc-dev).
$(BUILD)/jemalloc-compat.h: include/jemalloc/jemalloc.h | $(BUILD)
	sed -e 's|#include "../alloc.h"|#include <alloc.h>|' $< > $@.tmp
	grep -q '#include <alloc.h>' $@.tmp || { echo "error: $< no longer includes ../alloc.h" >&2; exit 1; }
	mv -f $@.tmp $@

ALL_TARGETS += $(BUILD)/jemalloc-compat.h

install: all $(BUILD)/alloc.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(INCLUDEDIR)/liballoc/jemalloc $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 644 $(BUILD)/liballoc.so $(DESTDIR)$(LIBDIR)/liballoc.so.$(ALLOC_VERSION)
	ln -sf liballoc.so.$(ALLOC_VERSION) $(DESTDIR)$(LIBDIR)/liballoc.so.$(ALLOC_SOVERSION)
	ln -sf liballoc.so.$(ALLOC_SOVERSION) $(DESTDIR)$(LIBDIR)/liballoc.so
	install -m 644 $(BUILD)/liballoc.a $(DESTDIR)$(LIBDIR)/liballoc.a
	install -m 644 include/alloc.h $(DESTDIR)$(INCLUDEDIR)/alloc.h
	install -m 644 $(BUILD)/jemalloc-compat.h $(DESTDIR)$(INCLUDEDIR)/liballoc/jemalloc/jemalloc.h
	install -m 644 $(BUILD)/alloc.pc $(DESTDIR)$(PKGCONFIGDIR)/alloc.pc
	install -m 755 $(BUILD)/jeprof-c $(DESTDIR)$(BINDIR)/jeprof-c
	install -m 644 $(BUILD)/man/jeprof-c.1 $(DESTDIR)$(MANDIR)/man1/jeprof-c.1
	install -m 644 $(BUILD)/man/liballoc.3 $(DESTDIR)$(MANDIR)/man3/liballoc.3
	@$(MAKE) --no-print-directory -s install-ldconfig

# The dynamic loader finds a library in a configured directory other than
# /lib and /usr/lib (/usr/local/lib, the default PREFIX's) only through
# its cache: without `ldconfig`, a program linked with -lalloc fails with
# "liballoc.so.0: cannot open shared object file" until someone runs it.
# So a real install (no DESTDIR) into a directory the loader's
# configuration lists refreshes the cache when it can (root), and says to
# do it otherwise; into any other directory (a PREFIX of one's own) it
# says how programs will find the library. Staged installs (DESTDIR, make
# deb) leave it to the package's ldconfig trigger.
.PHONY: install-ldconfig
install-ldconfig:
	@[ -z "$(DESTDIR)" ] || exit 0; \
	dir=$$(cd "$(LIBDIR)" && pwd -P) || exit 0; \
	command -v ldconfig >/dev/null 2>&1 || exit 0; \
	if ! ldconfig -v -N 2>/dev/null | grep -q "^$$dir:" && \
	   ! [ "$$dir" = /lib -o "$$dir" = /usr/lib -o "$$dir" = /lib64 -o "$$dir" = /usr/lib64 ]; then \
	    echo "note: the dynamic loader does not search $$dir: a program linked with -lalloc needs"; \
	    echo "  -Wl,-rpath,$$dir at link time, LD_LIBRARY_PATH=$$dir, or $$dir in /etc/ld.so.conf.d"; \
	    exit 0; \
	fi; \
	if [ "$$(id -u)" = 0 ]; then \
	    ldconfig && echo "ldconfig: $$dir is in the loader's cache (liballoc.so.$(ALLOC_SOVERSION))"; \
	else \
	    echo "note: run 'ldconfig' as root so that programs find liballoc.so.$(ALLOC_SOVERSION) in $$dir"; \
	fi

# The jemalloc release whose API liballoc answers, as jemalloc's own
# jemalloc.pc spells it (<major>.<minor>.<bugfix>_<nrev>, Debian: 5.3.0_0):
# the compat jemalloc.pc carries it, so that a build's version check
# (`pkg-config --atleast-version=5.0 jemalloc`, PKG_CHECK_MODULES with
# `jemalloc >= 5.0`) passes as it did against jemalloc.
JEMALLOC_API_VERSION := $(shell sed -n 's/^\#define JEMALLOC_VERSION_\(MAJOR\|MINOR\|BUGFIX\|NREV\) *\([0-9]*\)$$/\2/p' include/alloc.h | \
    paste -sd' ' | awk 'NF == 4 {print $$1 "." $$2 "." $$3 "_" $$4}')

# jemalloc's names answered by liballoc, so that a program built with
# -ljemalloc, <jemalloc/jemalloc.h> or `pkg-config jemalloc` builds against
# liballoc unchanged. Conflicts with Debian's libjemalloc-dev on the same
# prefix, hence opt-in and never in the .deb.
install-jemalloc-compat: install
	@[ -n "$(JEMALLOC_API_VERSION)" ] || { echo "error: no JEMALLOC_VERSION_* in include/alloc.h" >&2; exit 1; }
	install -d $(DESTDIR)$(INCLUDEDIR)/jemalloc
	install -m 644 $(BUILD)/jemalloc-compat.h $(DESTDIR)$(INCLUDEDIR)/jemalloc/jemalloc.h
	ln -sf liballoc.so.$(ALLOC_SOVERSION) $(DESTDIR)$(LIBDIR)/libjemalloc.so
	ln -sf liballoc.a $(DESTDIR)$(LIBDIR)/libjemalloc.a
	sed -e 's|^Name: alloc$$|Name: jemalloc|' \
	    -e 's|^Description: |Description: liballoc $(ALLOC_VERSION) answering for jemalloc: |' \
	    -e 's|^Version: .*|Version: $(JEMALLOC_API_VERSION)|' \
	    -e 's|-lalloc|-ljemalloc|' $(BUILD)/alloc.pc > $(DESTDIR)$(PKGCONFIGDIR)/jemalloc.pc

# The .deb installs under /usr with the library in /usr/lib (the directory
# jeprof-c record looks in beside its own ../bin), not multiarch.
deb: all
	rm -rf $(BUILD)/deb
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(BUILD))/deb/root PREFIX=/usr
	bash packaging/deb.sh $(BUILD) $(ALLOC_VERSION)
