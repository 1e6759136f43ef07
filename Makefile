# kith: plain GNU make.  `make` builds, `make test` runs every test,
# `make asan` runs them under ASan+UBSan, `make fuzz` runs the fuzzers,
# `make bench` prints benchmark figures as JSON lines.  `make install`
# (PREFIX, DESTDIR and the *DIR variables below) installs kith and kithd.

CC ?= cc
# msgpack-c's pkg-config name is "msgpack" on Debian 12, "msgpack-c" elsewhere.
MSGPACK_PC := $(shell pkg-config --exists msgpack-c && echo msgpack-c || echo msgpack)
PKGS := libzmq lmdb $(MSGPACK_PC) libsodium jansson inih
DEPS_OK := $(shell pkg-config --exists $(PKGS) cmocka && echo yes)

ifneq ($(DEPS_OK),yes)
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
$(error missing development libraries: run `tools/install-deps` (or `make deps`) first)
endif
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT ?= -O2 -g
CFLAGS ?= $(OPT)
CFLAGS += -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARN) -Iproto -Inode -pthread
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
LDLIBS += $(PKG_LIBS) -pthread

B ?= build
PROTO_SRC := $(wildcard proto/*.c)
NODE_SRC := $(filter-out node/kithd.c,$(wildcard node/*.c))
LIB_SRC := $(PROTO_SRC) $(NODE_SRC)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/config_default.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps test unit fhir-check cli system faults fuzz-replay negentropy-conformance asan fuzz bench vectors install uninstall install-check walkthrough clean
# Keep object files between runs (make would delete the test objects).
.SECONDARY:
all: $(B)/kith $(B)/kithd $(B)/kith-bench

deps:
	tools/install-deps

$(B)/%.o: %.c $(wildcard proto/*.h node/*.h tools/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# The default config is built into the binaries, so a node runs with none.
$(B)/gen/config_default.c: configs/kith.conf
	@mkdir -p $(dir $@)
	{ echo 'const char config_default[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(B)/gen/%.o: $(B)/gen/%.c
	$(CC) $(CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

$(B)/libkith.a: $(LIB_OBJ)
	ar rcs $@ $^

KITH_OBJ := $(patsubst %.c,$(B)/%.o,tools/kith.c $(wildcard tools/cmd*.c) \
    tools/view.c tools/fhir.c)
$(B)/kith: $(KITH_OBJ) $(B)/libkith.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/kithd: $(B)/node/kithd.o $(B)/libkith.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/kith-bench: $(B)/tools/bench.o $(B)/libkith.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(B)/tests/unit/testutil.o $(B)/libkith.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

# test_body watches body_free wipe personal strings: every free of the
# test and of libkith.a goes through its __wrap_free.
$(B)/tests/test_body: LDLIBS += -Wl,--wrap=free

# tools/fhir.c is not in libkith.a: its test links it directly.
$(B)/tools/fhir.o $(B)/tests/unit/test_fhir.o: tools/fhir.h
$(B)/tests/unit/test_fhir.o: CFLAGS += -Itools
$(B)/tests/test_fhir: $(B)/tests/unit/test_fhir.o $(B)/tests/unit/testutil.o \
    $(B)/tools/fhir.o $(B)/libkith.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

# Fuzz harnesses double as corpus replayers: built without libFuzzer, their
# main() runs each corpus file once (tests/fuzz/replay.c).
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/%.c=%)
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(B)/libkith.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< tests/fuzz/replay.c $(B)/libkith.a $(LDLIBS)

# test_fhir writes its FHIR output to KITH_FHIR_OUT for fhir-check.
unit: $(UNIT_BIN)
	@rm -rf $(B)/fhir && mkdir -p $(B)/fhir
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; KITH_FHIR_OUT=$(B)/fhir $$t; done

# That output, and known-bad resources, against the official FHIR R4 schema.
fhir-check: unit
	tests/fhir/validate $(B)/fhir/*.json $(B)/fhir/*.ndjson
	tests/fhir/validate --must-fail tests/fhir/bad/expected.txt

fuzz-replay: $(FUZZ_NAMES:%=$(B)/fuzz/%)
	@set -e; for f in $(FUZZ_NAMES); do $(B)/fuzz/$$f tests/fuzz/corpus/$${f#fuzz_}; done

cli: $(B)/kith $(B)/kith-craft
	@KITH=$(abspath $(B)/kith) CRAFT=$(abspath $(B)/kith-craft) tests/cli/run

# make install and uninstall into a staging DESTDIR, the man pages through
# mandoc's linter, the completion against kith's help (tests/cli/install).
# The README's walkthroughs, run as written (tests/cli/walkthrough).
walkthrough: $(B)/kith $(B)/kithd
	@BUILD=$(abspath $(B)) tests/cli/walkthrough

install-check: $(B)/kith $(B)/kithd
	+@MAKE="$(MAKE)" B=$(B) tests/cli/install

# The system tests' attacker: records a bypassed kith command would write.
$(B)/kith-craft: tests/system/craft.c $(B)/libkith.a
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(B)/libkith.a $(LDLIBS)

# kith's side of the Negentropy line protocol (tests/negentropy/).
$(B)/negentropy-harness: tests/negentropy/harness.c $(B)/libkith.a
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(B)/libkith.a $(LDLIBS)

# The reference suite's scenarios through kith's harness; the messages must
# be the reference's bytes (tests/negentropy/reference.txt).  NEG_FUZZ of
# its random scenarios run (recorded: 40).
NEG_FUZZ ?= 40
negentropy-conformance: $(B)/negentropy-harness
	tests/negentropy/conformance --check tests/negentropy/reference.txt \
	    --fuzz $(NEG_FUZZ) $(B)/negentropy-harness

# Real kithd processes on loopback ports (tests/system/).
system: $(B)/kith $(B)/kithd $(B)/kith-craft
	@KITH=$(abspath $(B)/kith) KITHD=$(abspath $(B)/kithd) tests/system/run
	@KITH=$(abspath $(B)/kith) KITHD=$(abspath $(B)/kithd) \
	    CRAFT=$(abspath $(B)/kith-craft) tests/system/trust
	@KITH=$(abspath $(B)/kith) KITHD=$(abspath $(B)/kithd) \
	    CRAFT=$(abspath $(B)/kith-craft) tests/system/attacks
	@set -e; if [ -x tests/system/hostile.py ]; then d=$$(mktemp -d); \
	  CRAFT=$(abspath $(B)/kith-craft) tests/system/hostile.py \
	    $(abspath $(B)/kith) $(abspath $(B)/kithd) $$d; \
	  rm -rf $$d; fi

# Faults a community laptop meets (tests/faults/): each executable script
# there runs real kithd processes against one kind of fault.
faults: $(B)/kith $(B)/kithd $(B)/kith-craft
	@set -e; for t in tests/faults/*; do [ -x "$$t" ] || continue; \
	  KITH=$(abspath $(B)/kith) KITHD=$(abspath $(B)/kithd) \
	  CRAFT=$(abspath $(B)/kith-craft) B=$(abspath $(B)) "$$t"; done

test: all unit fhir-check fuzz-replay negentropy-conformance cli walkthrough install-check system faults

asan:
	$(MAKE) B=build-asan CC=clang \
	    OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    test

# libFuzzer builds: each harness runs for FUZZ_SECONDS on its corpus.
FUZZ_SECONDS ?= 60
FB := build-fuzz
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Iproto -Inode -pthread
# The harnesses need proto/ and the config reader (with its built-in text).
FUZZ_LIB_SRC := $(PROTO_SRC) node/config.c node/pagecheck.c node/fptree.c node/invite.c $(B)/gen/config_default.c
fuzz: $(B)/gen/config_default.c
	@mkdir -p $(FB)
	@set -e; for f in $(FUZZ_NAMES); do \
	  clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $(FB)/$$f tests/fuzz/$$f.c $(FUZZ_LIB_SRC) $(LDLIBS); \
	  mkdir -p $(FB)/corpus-$$f; \
	  $(FB)/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=20000 $(FB)/corpus-$$f tests/fuzz/corpus/$${f#fuzz_}; \
	done

# Regenerate the known-answer vectors and the fuzz seeds (deterministic).
$(B)/mkvectors: $(B)/tools/mkvectors.o $(B)/libkith.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

vectors: $(B)/mkvectors
	$(B)/mkvectors tests/vectors/records.txt
	$(B)/mkvectors --corpus tests/fuzz/corpus

bench: $(B)/kith-bench $(B)/kithd
	$(B)/kith-bench

# Where `make install` puts things; override any of them, and DESTDIR for a
# staged install (a package build).  kith is a user's command; kithd is a
# system daemon, so it goes to sbin with its page in section 8, as sshd does.
# The example config is documentation: kith reads no file of its own in
# /etc (the defaults are built in, and `kith init` writes HOME/kith.conf).
# bash-completion loads completions/NAME when NAME is first completed, so
# the one file goes in as kith and as kithd.  The unit goes where systemd
# looks for units an administrator installed (/usr/local/lib/systemd/system
# under the default PREFIX), with ExecStart pointing at SBINDIR.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/kith
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install
# What install puts where, relative to DESTDIR; uninstall removes exactly these.
INSTALLED := $(BINDIR)/kith $(SBINDIR)/kithd \
    $(MANDIR)/man1/kith.1 $(MANDIR)/man5/kith.conf.5 $(MANDIR)/man8/kithd.8 \
    $(BASHCOMPDIR)/kith $(BASHCOMPDIR)/kithd $(ZSHCOMPDIR)/_kith \
    $(DOCDIR)/examples/kith.conf $(SYSTEMDUNITDIR)/kithd.service

install: $(B)/kith $(B)/kithd
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
	    $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0755 $(B)/kith $(DESTDIR)$(BINDIR)/kith
	$(INSTALL) -m 0755 $(B)/kithd $(DESTDIR)$(SBINDIR)/kithd
	$(INSTALL) -m 0644 tools/man/kith.1 $(DESTDIR)$(MANDIR)/man1/kith.1
	$(INSTALL) -m 0644 tools/man/kith.conf.5 $(DESTDIR)$(MANDIR)/man5/kith.conf.5
	$(INSTALL) -m 0644 tools/man/kithd.8 $(DESTDIR)$(MANDIR)/man8/kithd.8
	$(INSTALL) -m 0644 tools/completion/kith.bash $(DESTDIR)$(BASHCOMPDIR)/kith
	$(INSTALL) -m 0644 tools/completion/kith.bash $(DESTDIR)$(BASHCOMPDIR)/kithd
	$(INSTALL) -m 0644 tools/completion/_kith $(DESTDIR)$(ZSHCOMPDIR)/_kith
	$(INSTALL) -m 0644 configs/kith.conf $(DESTDIR)$(DOCDIR)/examples/kith.conf
	sed 's|/usr/local/sbin/kithd|$(SBINDIR)/kithd|' configs/kithd.service \
	    > $(B)/kithd.service
	$(INSTALL) -m 0644 $(B)/kithd.service $(DESTDIR)$(SYSTEMDUNITDIR)/kithd.service

# The files, and kith's own doc directory; shared directories stay.
uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)%)
	rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true

clean:
	rm -rf build build-asan build-fuzz
