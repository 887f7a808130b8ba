# pvd and pv-xconnect: Pantavisor's ingress slice.
#
#   make                         build build/pvd and build/pv-xconnect
#   make check                   build, unit tests, then integration tests (root)
#   make unit                    build and unit tests only (no root, no LXC)
#   make SANITIZER=address,undefined check
#   make install PREFIX=/usr DESTDIR=/tmp/img
#   make format / format-check
#   make tidy                    clang-tidy (.clang-tidy), any finding fails
#   make fuzz FUZZ_SECONDS=60    libFuzzer targets (tests/fuzz/, clang)
#   make ARCH=arm64 check-cross  cross-build into build/arm64/, unit and
#                                proxy tests under qemu-user (docs/embedded.md)

# ---- Cross builds -----------------------------------------------------------
# `make ARCH=arm64` (or armhf), or `make CROSS_COMPILE=aarch64-linux-gnu-`:
# CC is $(CROSS_COMPILE)gcc unless given on the command line, objects go to
# build/ARCH/, and pkg-config reads only the target's .pc files from SYSROOT
# (build/ARCH/sysroot, unpacked from Debian's ARCH packages by `make sysroot`;
# lxc-dev:ARCH cannot be installed beside the host's lxc). SYSROOT= (empty)
# uses multiarch -dev packages installed in /usr/lib/TRIPLET instead.
CROSS_TRIPLET_arm64 := aarch64-linux-gnu
CROSS_TRIPLET_armhf := arm-linux-gnueabihf
CROSS_ARCH_aarch64-linux-gnu := arm64
CROSS_ARCH_arm-linux-gnueabihf := armhf
CROSS_QEMU_arm64 := qemu-aarch64
CROSS_QEMU_armhf := qemu-arm
ifneq ($(ARCH),)
ifeq ($(CROSS_COMPILE),)
CROSS_COMPILE := $(CROSS_TRIPLET_$(ARCH))-
ifeq ($(CROSS_COMPILE),-)
$(error ARCH=$(ARCH): unknown; use arm64 or armhf, or set CROSS_COMPILE)
endif
endif
endif
ifneq ($(CROSS_COMPILE),)
TRIPLET := $(patsubst %-,%,$(notdir $(CROSS_COMPILE)))
ARCH := $(or $(ARCH),$(CROSS_ARCH_$(TRIPLET)),$(TRIPLET))
ifneq ($(origin CC),command line)
CC := $(CROSS_COMPILE)gcc
endif
STRIP ?= $(CROSS_COMPILE)strip
ifneq ($(origin BUILD),command line)
BUILD := build/$(ARCH)
endif
SYSROOT ?= $(BUILD)/sysroot
QEMU ?= $(or $(CROSS_QEMU_$(ARCH)),qemu-$(firstword $(subst -, ,$(TRIPLET))))
ifneq ($(SYSROOT),)
SYSROOT_ABS := $(abspath $(SYSROOT))
CROSS_LIBDIRS := $(SYSROOT_ABS)/usr/lib/$(TRIPLET):$(SYSROOT_ABS)/lib/$(TRIPLET)
CROSS_PC_DIR := $(SYSROOT_ABS)/usr/lib/$(TRIPLET)/pkgconfig
CROSS_PKG_CONFIG := PKG_CONFIG_SYSROOT_DIR=$(SYSROOT_ABS) \
	PKG_CONFIG_LIBDIR=$(CROSS_PC_DIR):$(SYSROOT_ABS)/usr/share/pkgconfig \
	pkg-config
# liblxc.so.1's own libraries (libseccomp, libcap, ...) are found at link
# time only through -rpath-link; the paths are not recorded in the binary.
CROSS_LDFLAGS := -Wl,-rpath-link,$(CROSS_LIBDIRS)
else
CROSS_LIBDIRS := /usr/lib/$(TRIPLET):/lib/$(TRIPLET)
CROSS_PC_DIR := /usr/lib/$(TRIPLET)/pkgconfig
CROSS_PKG_CONFIG := PKG_CONFIG_LIBDIR=$(CROSS_PC_DIR):/usr/share/pkgconfig \
	pkg-config
endif
ifneq ($(origin PKG_CONFIG),command line)
PKG_CONFIG := $(CROSS_PKG_CONFIG)
# No target libraries yet: only `sysroot`, `check-cross` (which makes the
# sysroot first) and `clean` may run; anything else would fail to compile.
ifeq ($(wildcard $(CROSS_PC_DIR)/lxc.pc),)
ifeq ($(filter sysroot check-cross clean,$(MAKECMDGOALS)),)
$(error $(CROSS_PC_DIR)/lxc.pc missing: $(if $(SYSROOT),run `make \
	ARCH=$(ARCH) sysroot` first,install lxc-dev:$(ARCH) or drop SYSROOT=))
endif
PKG_CONFIG := true
endif
endif
endif
# ------------------------------------------------------------------------------

CC ?= cc
PKG_CONFIG ?= pkg-config
CLANG_FORMAT ?= clang-format
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
BUILD ?= build

ifeq ($(V),1)
Q :=
else
Q := @
endif

DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libevent lxc libnftables)
DEPS_LIBS := $(shell $(PKG_CONFIG) --libs libevent lxc libnftables)

# ---- Kernel data path (docs/datapath.md) ------------------------------------
# BPF=1: xconnect/bpf/sockmap.bpf.c compiled by clang -target bpf (uapi
# headers only: the object is the same for every ARCH), embedded by
# `bpftool gen skeleton`, loaded through libbpf (the target's, from the
# sysroot in cross builds). BPF=0: xconnect/datapath_sockmap.c is a stub
# whose probe says "built without BPF". Default: 1 when pkg-config finds
# libbpf for the target and clang and bpftool run here.
BPF_CLANG ?= clang
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),$(wildcard \
	/usr/sbin/bpftool /sbin/bpftool),bpftool)
ifeq ($(origin BPF),undefined)
ifeq ($(PKG_CONFIG),true)
BPF := 0
else
BPF := $(shell $(PKG_CONFIG) --exists libbpf 2>/dev/null && \
	command -v $(BPF_CLANG) >/dev/null 2>&1 && \
	test -x "$$(command -v $(BPFTOOL) 2>/dev/null)" && echo 1 || echo 0)
endif
endif
BPF_DIR := $(BUILD)/bpf
BPF_OBJ := $(BPF_DIR)/sockmap.bpf.o
BPF_SKEL := $(BPF_DIR)/sockmap.skel.h
ifeq ($(BPF),1)
BPF_DEFS := -DPVX_BPF -I$(BPF_DIR)
DEPS_CFLAGS += $(shell $(PKG_CONFIG) --cflags libbpf)
BPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf)
# The build machine's uapi headers (asm/types.h lives in its multiarch
# directory); bpf_helpers.h from its libbpf-dev, else the sysroot's.
BPF_HOST_MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
BPF_CLANG_FLAGS := -O2 -g -fdebug-prefix-map=$(CURDIR)=. -target bpf -Wall -Werror -Ixconnect/bpf \
	$(if $(BPF_HOST_MULTIARCH),-idirafter /usr/include/$(BPF_HOST_MULTIARCH)) \
	$(if $(SYSROOT_ABS),-idirafter $(SYSROOT_ABS)/usr/include)
endif

PV_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror \
	-Wshadow -Wformat=2 -Wno-format-nonliteral -fno-strict-aliasing \
	-I. -Ixconnect/include $(DEPS_CFLAGS) $(BPF_DEFS) -MMD -MP
PV_LDFLAGS :=
ifneq ($(SANITIZER),)
PV_CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -O1
PV_LDFLAGS += -fsanitize=$(SANITIZER)
endif
# Embedded targets: no build directory recorded in the binaries
# (debug info, __FILE__), target paths for a sysroot's headers; link only
# the libraries a program uses (pv-xconnect needs no liblxc).
# On 32-bit targets (armhf), 64-bit off_t and ino_t: readdir() otherwise
# fails with EOVERFLOW on filesystems with 64-bit directory offsets (ext4
# under qemu-user, NFS, overlayfs). A no-op on 64-bit; no ABI change with
# libevent (ev_off_t is fixed) or liblxc (no off_t in its API).
PV_CFLAGS += -ffile-prefix-map=$(CURDIR)=. \
	$(if $(SYSROOT_ABS),-ffile-prefix-map=$(SYSROOT_ABS)=) \
	-D_FILE_OFFSET_BITS=64
PV_LDFLAGS += -Wl,--as-needed $(CROSS_LDFLAGS)

# Shared by both programs: logging, JSON, addresses, lists.
COMMON_SRCS := log.c $(wildcard utils/*.c)
# The state: parser, platforms, IPAM, graph. No liblxc, no event loop:
# unit-tested and fuzzed on its own.
CORE_SRCS := platforms.c ipam.c state.c $(wildcard parser/*.c)
# The host daemon: every other top-level file plus the pv-ctrl endpoints.
PVD_SRCS := $(filter-out $(COMMON_SRCS) $(CORE_SRCS),$(wildcard *.c)) \
	$(wildcard ctrl/*.c)
# The proxy; main.c holds only main() so the rest links into tests.
# The kernel data path's module (DATAPATH_SRCS) is part of it; the
# benchmark links that module alone.
DATAPATH_SRCS := xconnect/datapath_sockmap.c
PVX_LIB_SRCS := $(filter-out xconnect/main.c, \
	$(wildcard xconnect/*.c)) $(wildcard xconnect/plugins/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJS := $(call obj,$(COMMON_SRCS))
CORE_OBJS := $(call obj,$(CORE_SRCS))
PVD_OBJS := $(call obj,$(PVD_SRCS))
PVX_LIB_OBJS := $(call obj,$(PVX_LIB_SRCS))
PVX_MAIN_OBJ := $(call obj,xconnect/main.c)
DATAPATH_OBJS := $(call obj,$(DATAPATH_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
# Unit tests also link pv-ctrl's request parser (pure, libc only).
UNIT_HELPER_OBJS := $(call obj,$(wildcard tests/unit/kit_*.c) ctrl/ctrl_http.c)

PROGRAMS := $(BUILD)/pvd $(BUILD)/pv-xconnect

all: $(PROGRAMS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(PV_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/pvd: $(PVD_OBJS) $(CORE_OBJS) $(COMMON_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(PV_LDFLAGS) $(LDFLAGS) -o $@ $^ $(DEPS_LIBS) $(LDLIBS)

$(BUILD)/pv-xconnect: $(PVX_MAIN_OBJ) $(PVX_LIB_OBJS) $(COMMON_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(PV_LDFLAGS) $(LDFLAGS) -o $@ $^ $(DEPS_LIBS) $(BPF_LIBS) \
		$(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_HELPER_OBJS) \
		$(CORE_OBJS) $(PVX_LIB_OBJS) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(PV_LDFLAGS) $(LDFLAGS) -o $@ $^ $(DEPS_LIBS) $(BPF_LIBS) \
		$(LDLIBS)

# The BPF object and its skeleton (a header embedding it), BPF=1 only.
$(BPF_OBJ): xconnect/bpf/sockmap.bpf.c xconnect/bpf/sockmap_maps.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BPF     $<")
	$(Q)$(BPF_CLANG) $(BPF_CLANG_FLAGS) -c -o $@ $<

$(BPF_SKEL): $(BPF_OBJ)
	@$(if $(Q),echo "  SKEL    $@")
	$(Q)$(BPFTOOL) gen skeleton $< name pvx_sockmap_bpf >$@.tmp && \
		mv $@.tmp $@

ifeq ($(BPF),1)
$(DATAPATH_OBJS): $(BPF_SKEL)
endif

unit: $(PROGRAMS) $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

# Everything the integration tests run is built first: both programs and
# build/app (the balancing tests' backend).
check: all unit
	$(Q)tests/run-integration.sh

# ---- Install ----------------------------------------------------------------
# Exactly: the two programs, their man pages (plain; image builders compress
# as they like) and the example state; tests/integration/02-install.sh checks
# the list. Unstripped, so that image builders can keep debug symbols apart.
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/pv-xconnect
MANPAGES := man/pvd.8 man/pv-xconnect.8
EXAMPLE_FILES := $(shell find examples/ingress-nginx -type f 2>/dev/null | \
	LC_ALL=C sort)
EXAMPLE_DIRS := $(patsubst %/,%,$(sort $(dir $(EXAMPLE_FILES))))

install: $(PROGRAMS)
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man8/
	$(if $(EXAMPLE_FILES),install -d -m 0755 \
		$(addprefix $(DESTDIR)$(DOCDIR)/,examples $(EXAMPLE_DIRS)))
	$(foreach f,$(EXAMPLE_FILES),install -m 0644 $(f) \
		$(DESTDIR)$(DOCDIR)/$(f) &&) true

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pvd $(DESTDIR)$(BINDIR)/pv-xconnect
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MANPAGES)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(EXAMPLE_FILES))
	@for d in $$(printf '%s\n' $(EXAMPLE_DIRS) | LC_ALL=C sort -r) \
		examples; do \
		rmdir $(DESTDIR)$(DOCDIR)/$$d 2>/dev/null || true; done; \
		rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# ---- Cross targets ----------------------------------------------------------
# `make ARCH=arm64 sysroot`: the target's libraries, once (3 s, ~3 MB).
sysroot:
	$(if $(CROSS_COMPILE),,$(error sysroot needs ARCH=arm64 or ARCH=armhf))
	$(Q)test -z "$(SYSROOT)" || test -e $(CROSS_PC_DIR)/lxc.pc || \
		scripts/cross-sysroot.sh $(ARCH) $(SYSROOT)

# Any header taken from the host's /usr/include would mean host paths leak
# into a target build.
cross-header-check: $(if $(filter 1,$(BPF)),$(BPF_SKEL))
	$(Q)for f in $(PVD_SRCS) $(CORE_SRCS) $(COMMON_SRCS) $(PVX_LIB_SRCS) \
		$(UNIT_SRCS) $(wildcard xconnect/main.c); do \
		$(CC) $(filter-out -MMD -MP,$(PV_CFLAGS)) $(CPPFLAGS) $(CFLAGS) \
			-M $$f || exit 1; \
	done | tr ' ' '\n' | grep '^/usr/include/' | sort -u | \
		{ if read -r h; then echo "host header in the $(ARCH) build: $$h"; \
		  exit 1; fi; }

# How a target binary runs here: qemu-user with the target's libc and the
# sysroot's libraries; PV_UNDER_QEMU=1 lets a test skip what qemu-user
# cannot do (exit 77).
QEMU_RUN = $(QEMU) -L /usr/$(TRIPLET) -E LD_LIBRARY_PATH=$(CROSS_LIBDIRS) \
	-E PV_UNDER_QEMU=1

# The unit tests, each under qemu-user.
cross-unit: $(PROGRAMS) $(UNIT_BINS) cross-header-check
	$(Q)failed=0; for t in $(UNIT_BINS); do \
		$(QEMU_RUN) $$t; rc=$$?; \
		if [ $$rc -eq 77 ]; then echo "SKIP $$t (under $(QEMU))"; \
		elif [ $$rc -ne 0 ]; then echo "FAIL $$t (exit $$rc)"; failed=1; fi; \
	done; exit $$failed

# pv-xconnect's proxying tests (tests/integration/2*-xconnect-*.sh, no
# containers) with the target's pv-xconnect: tests/lib.sh runs
# $BUILD/pv-xconnect, here a wrapper that execs it under qemu-user. Skipped:
# 22-xconnect-unix, as qemu-user 7.2 (Debian 12) has no openat2() (the
# fallback walk refuses the in-root symlinks that test resolves); and
# 29-xconnect-threads, which counts the process's threads, where qemu-user
# adds its own.
CROSS_IT_SKIP ?= 22-xconnect-unix 29-xconnect-threads
cross-xconnect-tests: $(PROGRAMS)
	@mkdir -p $(BUILD)/qemu
	$(Q)for p in pvd pv-xconnect; do \
		{ echo '#!/bin/sh'; \
		  echo 'exec $(QEMU_RUN) $(abspath $(BUILD))/'$$p' "$$@"'; \
		} >$(BUILD)/qemu/$$p && chmod 755 $(BUILD)/qemu/$$p || exit 1; \
	done
	$(Q)failed=""; for t in tests/integration/2[0-9]-xconnect-*.sh; do \
		n=$$(basename $$t .sh); \
		case " $(CROSS_IT_SKIP) " in *" $$n "*) \
			echo "=== SKIP $$t (CROSS_IT_SKIP)"; continue;; esac; \
		echo "=== $$t ($(ARCH), $(QEMU))"; \
		BUILD=$(abspath $(BUILD))/qemu bash $$t; rc=$$?; \
		if [ $$rc -eq 0 ]; then echo "=== PASS $$t"; \
		elif [ $$rc -eq 77 ] && [ "$${CI:-}" != true ]; then \
			echo "=== SKIP $$t"; \
		else echo "=== FAIL $$t (exit $$rc)"; failed="$$failed $$n"; fi; \
	done; [ -z "$$failed" ] || { echo "failed:$$failed"; exit 1; }

# Everything for one target: sysroot, build, unit tests, proxying tests.
check-cross:
	$(if $(CROSS_COMPILE),,$(error check-cross needs ARCH=arm64 or ARCH=armhf))
	$(Q)$(MAKE) --no-print-directory sysroot
	$(Q)$(MAKE) --no-print-directory cross-unit
	$(Q)$(MAKE) --no-print-directory cross-xconnect-tests

clean:
	rm -rf $(BUILD)

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || \
	find . -name '*.[ch]' -not -path './build/*')

format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)

format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

.PHONY: all unit check install uninstall clean format format-check \
	sysroot cross-header-check cross-unit cross-xconnect-tests check-cross
.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- Benchmarks (bench/README.md) -------------------------------------------
# `make bench`: pv-xconnect against a direct connection, HAProxy, nginx's
# stream module and socat (about 10 minutes; bench/out/results.md and
# chart.png). `make bench BENCH_SMOKE=1` or `make bench-smoke`: about 1 s per
# figure, proving the harness works (what CI runs); it never judges a number.
bench: all
	bench/run.sh

bench-smoke: all
	BENCH_SMOKE=1 bench/run.sh

# `make bench-sockmap`: one connection over loopback, direct, through a
# user-space splice loop and through the kernel data path, bulk and
# ping-pong, BENCH_SECONDS each (default 3; root for the kernel path).
BENCH_SECONDS ?= 3
$(BUILD)/bench/sockmap-bench: $(BUILD)/obj/bench/sockmap_bench.o \
		$(DATAPATH_OBJS) $(call obj,log.c)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(PV_LDFLAGS) $(LDFLAGS) -o $@ $^ $(BPF_LIBS) -lpthread \
		$(LDLIBS)

bench-sockmap: $(BUILD)/bench/sockmap-bench
	$(Q)for t in bulk pingpong; do for m in direct splice sockmap; do \
		$(BUILD)/bench/sockmap-bench $$m $$t $(BENCH_SECONDS) || \
			exit 1; \
	done; done

.PHONY: bench bench-smoke bench-sockmap

# ---- Static analysis --------------------------------------------------------
# `make tidy`: clang-tidy with .clang-tidy (bugprone-*, clang-analyzer-*)
# on every C file of the repository; any finding fails. About a minute on
# two cores.
CLANG_TIDY ?= clang-tidy
TIDY_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# The BPF program (xconnect/bpf/*.bpf.c) is left out: kernel C for
# another target, checked by clang -Wall -Werror and by the verifier. With
# BPF=1 the loader is checked as built; the generated skeleton is a system
# header there (its code is bpftool's).
TIDY_FILES = $(filter-out %.bpf.c,$(shell git ls-files '*.c' 2>/dev/null || \
	find . -name '*.c' -not -path './build/*'))
TIDY_CFLAGS := -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I. \
	-Ixconnect/include $(DEPS_CFLAGS) \
	$(if $(filter 1,$(BPF)),-DPVX_BPF -isystem $(BPF_DIR))

tidy: $(if $(filter 1,$(BPF)),$(BPF_SKEL))
	$(Q)printf '%s\n' $(TIDY_FILES) | xargs -P $(TIDY_JOBS) -n 1 sh -c \
		'$(CLANG_TIDY) --quiet "$$@" -- $(TIDY_CFLAGS)' tidy
	@echo "tidy: clean"

.PHONY: tidy

# ---- Fuzzing (tests/fuzz/) --------------------------------------------------
# libFuzzer targets, built with clang apart from the main build (own
# objects in $(BUILD)/fuzz/, never part of `all` or `check`):
#   fuzz-state  the state parser, IPAM leases and the graph pvd makes
#   fuzz-graph  pv-xconnect's graph parser and pv-ctrl answer reader
#   fuzz-ctrl   pv-ctrl's request head parser and request bodies
#   fuzz-http1  the HTTP/1.x parser: request and response heads, body
#               framing, each input also cut at a byte it chooses
# `make fuzz` runs each for FUZZ_SECONDS (default 60) from its seed corpus
# tests/fuzz/corpus/NAME (read only; what the fuzzer finds goes to
# $(BUILD)/fuzz/corpus/NAME, crashes to $(BUILD)/fuzz/crash-*).
# `make fuzz-build` only builds; `build/fuzz/fuzz-state FILE` replays one.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_NAMES := state graph ctrl http1
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -O1 -g -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-Wall -Wextra -Werror -fno-strict-aliasing -I. -Ixconnect/include \
	$(DEPS_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP
fuzz_obj = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(1))
FUZZ_LIBS_state := $(CORE_SRCS) $(PVX_LIB_SRCS) $(COMMON_SRCS)
FUZZ_LIBS_graph := $(PVX_LIB_SRCS) $(COMMON_SRCS)
FUZZ_LIBS_ctrl := ctrl/ctrl_http.c $(COMMON_SRCS)
FUZZ_LIBS_http1 := utils/http1.c
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/fuzz-,$(FUZZ_NAMES))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
$(FUZZ_DIR)/fuzz-%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o \
		$$(call fuzz_obj,$$(FUZZ_LIBS_$$*))
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(DEPS_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)for n in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$n || exit 1; \
		echo "=== fuzz-$$n for $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/fuzz-$$n -max_total_time=$(FUZZ_SECONDS) \
			-timeout=10 -rss_limit_mb=2048 -max_len=65536 \
			-print_final_stats=1 \
			-dict=tests/fuzz/$$n.dict \
			-artifact_prefix=$(FUZZ_DIR)/ \
			$(FUZZ_DIR)/corpus/$$n tests/fuzz/corpus/$$n \
			2>$(FUZZ_DIR)/fuzz-$$n.log; rc=$$?; \
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' \
			$(FUZZ_DIR)/fuzz-$$n.log; \
		if [ $$rc -ne 0 ]; then tail -n 60 $(FUZZ_DIR)/fuzz-$$n.log; \
			echo "=== FAIL fuzz-$$n (exit $$rc; log \
$(FUZZ_DIR)/fuzz-$$n.log)"; exit 1; fi; \
		echo "=== PASS fuzz-$$n"; \
	done

.PHONY: fuzz fuzz-build
-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)

# ---- Example app (examples/app/app.c) ---------------------------------------
# A small HTTP app for the load-balancing example (examples/balance/) and
# tests: build/app. Not installed; it is no part of pvd or pv-xconnect.
# Never built with SANITIZER: it runs inside containers as a plain program.
# It parses requests with the project's HTTP/1.x parser (utils/http1.c).
APP_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I.
all: $(BUILD)/app
$(BUILD)/app: examples/app/app.c utils/http1.c utils/http1.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(APP_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) \
		-o $@ $(filter %.c,$^) $(LDLIBS)

# ---- Docker: the appengine image (docs/docker.md) ---------------------------
# `make docker-image`: pvd-appengine:latest, holding what `make install
# PREFIX=/usr` installs, liblxc and the example state at /etc/pvd/state,
# with pvd as PID 1 (docker/Dockerfile; BASE=IMAGE picks the base).
# `make check-docker`: Test 11 inside that image, every check through
# `docker exec` (tests/docker/test11.sh; root).
DOCKER_CONTEXT := $(BUILD)/docker
docker-image: $(PROGRAMS)
	$(Q)rm -rf $(DOCKER_CONTEXT)
	$(Q)$(MAKE) --no-print-directory install PREFIX=/usr \
		DESTDIR=$(abspath $(DOCKER_CONTEXT))/root >/dev/null
	$(Q)docker/build-image.sh $(DOCKER_CONTEXT)

check-docker: $(PROGRAMS)
	$(Q)bash tests/docker/test11.sh

.PHONY: docker-image check-docker

# ---- ThreadSanitizer --------------------------------------------------------
# `make check-tsan`: the unit tests and the --threads scenarios with
# pv-xconnect built under ThreadSanitizer (objects in build/tsan/). A data
# race is a defect like a leak: any report (written by TSan to
# build/tsan/reports/) fails the target.
TSAN_BUILD := build/tsan
TSAN_IT := xconnect-threads
check-tsan:
	$(Q)rm -rf $(TSAN_BUILD)/reports && mkdir -p $(TSAN_BUILD)/reports
	$(Q)$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD) SANITIZER=thread \
		all unit
	$(Q)TSAN_OPTIONS=log_path=$(abspath $(TSAN_BUILD))/reports/tsan \
		BUILD=$(abspath $(TSAN_BUILD)) ONLY=$(TSAN_IT) \
		tests/run-integration.sh
	$(Q)if ls $(TSAN_BUILD)/reports/tsan.* >/dev/null 2>&1; then \
		cat $(TSAN_BUILD)/reports/tsan.*; \
		echo "check-tsan: data races reported"; exit 1; fi
	@echo "check-tsan: no race reported"

.PHONY: check-tsan
