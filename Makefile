# pvd and pv-xconnect: Pantavisor's ingress slice.
#
#   make                         build build/pvd and build/pv-xconnect
#   make check                   unit tests, then integration tests (root)
#   make SANITIZER=address,undefined check
#   make install PREFIX=/usr DESTDIR=/tmp/img
#   make format / format-check

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

DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libevent lxc)
DEPS_LIBS := $(shell $(PKG_CONFIG) --libs libevent lxc)

PV_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror \
	-Wshadow -Wformat=2 -Wno-format-nonliteral -fno-strict-aliasing \
	-I. -Ixconnect/include $(DEPS_CFLAGS) -MMD -MP
PV_LDFLAGS :=
ifneq ($(SANITIZER),)
PV_CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -O1
PV_LDFLAGS += -fsanitize=$(SANITIZER)
endif

# Shared by both programs: logging, JSON, addresses, lists.
COMMON_SRCS := log.c $(wildcard utils/*.c)
# The state: parser, platforms, IPAM, graph. No liblxc, no event loop:
# unit-tested and fuzzed on its own.
CORE_SRCS := platforms.c ipam.c state.c $(wildcard parser/*.c)
# The host daemon: every other top-level file plus the pv-ctrl endpoints.
PVD_SRCS := $(filter-out $(COMMON_SRCS) $(CORE_SRCS),$(wildcard *.c)) \
	$(wildcard ctrl/*.c)
# The proxy; main.c holds only main() so the rest links into tests.
PVX_LIB_SRCS := $(filter-out xconnect/main.c,$(wildcard xconnect/*.c)) \
	$(wildcard xconnect/plugins/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJS := $(call obj,$(COMMON_SRCS))
CORE_OBJS := $(call obj,$(CORE_SRCS))
PVD_OBJS := $(call obj,$(PVD_SRCS))
PVX_LIB_OBJS := $(call obj,$(PVX_LIB_SRCS))
PVX_MAIN_OBJ := $(call obj,xconnect/main.c)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_HELPER_OBJS := $(call obj,$(wildcard tests/unit/kit_*.c))

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
	$(Q)$(CC) $(PV_LDFLAGS) $(LDFLAGS) -o $@ $^ $(DEPS_LIBS) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_HELPER_OBJS) \
		$(CORE_OBJS) $(PVX_LIB_OBJS) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(PV_LDFLAGS) $(LDFLAGS) -o $@ $^ $(DEPS_LIBS) $(LDLIBS)

unit: $(PROGRAMS) $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

check: unit
	$(Q)tests/run-integration.sh

install: $(PROGRAMS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pvd $(DESTDIR)$(BINDIR)/pv-xconnect

clean:
	rm -rf $(BUILD)

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || \
	find . -name '*.[ch]' -not -path './build/*')

format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)

format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

.PHONY: all unit check install uninstall clean format format-check
.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
