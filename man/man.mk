# The manuals: build/man/liballoc.3 and build/man/jeprof-c.1, part of `make`
# (a generator that fails stops the build).
#  - liballoc.3: man/liballoc.3.in (prose) with two generated tables in
#    place of @OPTIONS@ (from liballoc/options.def) and @MALLCTLS@ (the
#    mallctl tree walked by scripts/man_liballoc.c, texts from
#    man/mallctl.txt).
#  - jeprof-c.1: man/jeprof-c.1.in (prose) with @OPTIONS@ and @SYNOPSIS@
#    made from `jeprof-c --help` (the CLI's option table and usage lines) by
#    scripts/man_jeprof.sh.
MAN_DIR := $(BUILD)/man
MAN_GEN := $(BUILD)/scripts/man_liballoc

$(MAN_GEN): scripts/man_liballoc.c liballoc/options.def $(LIBALLOC_INTERNAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iliballoc -Ilibprof -o $@ $< $(LIBALLOC_INTERNAL_A) $(SAN_LDFLAGS) \
	    $(LIBALLOC_LIBS)

$(MAN_DIR)/liballoc.3: man/liballoc.3.in man/mallctl.txt $(MAN_GEN) scripts/man_subst.sh VERSION
	@mkdir -p $(MAN_DIR)
	$(MAN_GEN) options > $@.options
	MALLOC_CONF= $(MAN_GEN) mallctl man/mallctl.txt > $@.mallctl
	bash scripts/man_subst.sh $< $(ALLOC_VERSION) @OPTIONS@=$@.options @MALLCTLS@=$@.mallctl > $@.tmp
	rm -f $@.options $@.mallctl
	mv -f $@.tmp $@

$(MAN_DIR)/jeprof-c.1: man/jeprof-c.1.in $(BUILD)/jeprof-c scripts/man_jeprof.sh scripts/man_subst.sh VERSION
	@mkdir -p $(MAN_DIR)
	bash scripts/man_jeprof.sh $(BUILD)/jeprof-c > $@.options
	bash scripts/man_jeprof.sh $(BUILD)/jeprof-c --synopsis > $@.synopsis
	bash scripts/man_subst.sh $< $(ALLOC_VERSION) @OPTIONS@=$@.options @SYNOPSIS@=$@.synopsis > $@.tmp
	rm -f $@.options $@.synopsis
	mv -f $@.tmp $@

ALL_TARGETS += $(MAN_DIR)/liballoc.3 $(MAN_DIR)/jeprof-c.1
