################################################################################
#
# What the test tree does instead of compiling, and its test switches.
#
# Make variables, taken from the make command line only (never from the
# environment or .config; the orchestrator passes them through for tests):
#
#   TESTTREE_FAIL_PKG=<pkg> [<pkg> ...]
#       the build step of each named package (e.g. busybox, host-e2fsprogs)
#       prints a compiler error and fails
#   TESTTREE_SLOW_PKG=<pkg>:<seconds> [...]
#       the build step of <pkg> sleeps that long first
#   TESTTREE_KERNEL_DIR=<dir>
#       the real x86_64 kernel the stand-in linux package installs
#       (default /usr/local/share/skiffbuild/testtree-kernel, made by
#       scripts/setup: vmlinuz, config, lib/modules/<release>/)
#   TESTTREE_BUSYBOX=<file>
#       the static BusyBox binary the busybox package installs
#       (default /bin/busybox, from Debian's busybox-static)
#
################################################################################

TESTTREE_VARIABLES = TESTTREE_FAIL_PKG TESTTREE_SLOW_PKG TESTTREE_KERNEL_DIR TESTTREE_BUSYBOX
$(foreach v,$(TESTTREE_VARIABLES),\
	$(if $(filter command line,$(origin $(v))),,$(eval override $(v) :=)))
ifeq ($(TESTTREE_KERNEL_DIR),)
override TESTTREE_KERNEL_DIR := /usr/local/share/skiffbuild/testtree-kernel
endif
ifeq ($(TESTTREE_BUSYBOX),)
override TESTTREE_BUSYBOX := /bin/busybox
endif

# $(call testtree-slow-step,NAME), $(call testtree-fail-step,NAME): recipe
# lines of the build step. The failure looks like a compiler error followed
# by the failing sub-make's message, all on stderr.
testtree-slow-seconds = $(patsubst $(1):%,%,$(filter $(1):%,$(TESTTREE_SLOW_PKG)))
testtree-slow-step = $(if $(call testtree-slow-seconds,$(1)),@echo "skiffbuild test tree: \
	TESTTREE_SLOW_PKG: $(1) takes $(call testtree-slow-seconds,$(1)) s"; \
	sleep $(call testtree-slow-seconds,$(1)))
testtree-fail-step = $(if $(filter $(1),$(TESTTREE_FAIL_PKG)),@printf '%s\n' \
	"  CC      testtree/$(1).o" \
	"testtree/$(1).c: In function 'main':" \
	"testtree/$(1).c:7:16: error: 'TESTTREE_FAIL_PKG' undeclared (first use in this function)" \
	"    7 |         return TESTTREE_FAIL_PKG;" \
	"      |                ^~~~~~~~~~~~~~~~~" \
	"make[2]: *** [Makefile:12: testtree/$(1).o] Error 1" >&2; exit 1)

# The interpreter for the tree's Python helpers (standard library only).
STANDIN_PYTHON = $(HOSTPYTHON) -S

# $(call standin-program,FILE,DESCRIPTION): write FILE, a shell script that
# says it stands in for DESCRIPTION and exits 0 (so that services using it
# start and stop at once, without hanging the boot).
define standin-program
	$(Q)mkdir -p $(dir $(1))
	$(Q)printf '%s\n' '#!/bin/sh' \
		'# skiffbuild test tree: stand-in for $(notdir $(1)) of $(2).' \
		'echo "$(notdir $(1)): skiffbuild test tree stand-in ($(2)), does nothing" >&2' \
		'exit 0' > $(1)
	$(Q)chmod 0755 $(1)
endef

# $(call host-tool-wrappers,PATHS): for each <dir>/<tool> of PATHS, write
# $(HOST_DIR)/<dir>/<tool> running the build machine's <tool> (looked up in
# PATH at installation time), or failing with a clear message without it.
define host-tool-wrappers
	$(foreach t,$(1),$(Q)mkdir -p $(HOST_DIR)/$(dir $(t)) && \
		real=$$(command -v $(notdir $(t)) 2>/dev/null | grep -v '^$(HOST_DIR)/' || true); \
		if [ -n "$$real" ]; then \
			printf '#!/bin/sh\n# skiffbuild test tree: the build machine'"'"'s $(notdir $(t)).\nexec %s "$$@"\n' "$$real"; \
		else \
			printf '#!/bin/sh\necho "$(notdir $(t)): not installed on the build machine (skiffbuild test tree wraps its tools)" >&2\nexit 127\n'; \
		fi > $(HOST_DIR)/$(t) && chmod 0755 $(HOST_DIR)/$(t)$(sep))
endef

# $(eval $(call standin-kconfig,NAME,PREFIX)), after the package's own eval:
# the Kconfig-based packages' configuration step, as Buildroot's
# pkg-kconfig: <dir>/.stamp_dotconfig depends on <PREFIX>_KCONFIG_FILE and
# <PREFIX>_KCONFIG_FRAGMENT_FILES, so a changed fragment configures, builds
# and installs the package again. The stand-in only records them,
# concatenated, in <dir>/.config.
define standin-kconfig
$$($(2)_DIR)/.stamp_dotconfig: PKG = $(2)
$$($(2)_DIR)/.stamp_dotconfig: $$(wildcard $$($(2)_KCONFIG_FILE)) \
		$$($(2)_KCONFIG_FRAGMENT_FILES) | $(1)-patch
	$$(Q)cat /dev/null $$(wildcard $$($(2)_KCONFIG_FILE)) $$($(2)_KCONFIG_FRAGMENT_FILES) \
		> $$(@D)/.config
	$$(Q)touch $$@
$$($(2)_TARGET_CONFIGURE): $$($(2)_DIR)/.stamp_dotconfig

# <name>-menuconfig, as Buildroot's configuration editors: edit <dir>/.config
# in the foreground (support/kconfig/standin-menu.py), then forget that the
# package was configured, built and installed, so the next build redoes them.
.PHONY: $(1)-menuconfig
$(1)-menuconfig: $$($(2)_DIR)/.stamp_dotconfig
	$$(HOSTPYTHON) $$(TOPDIR)/support/kconfig/standin-menu.py $$($(2)_DIR)/.config
	rm -f $$(addprefix $$($(2)_DIR)/.stamp_,configured built installed \
		target_installed staging_installed images_installed)
endef
