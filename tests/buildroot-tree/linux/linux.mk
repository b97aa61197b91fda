################################################################################
#
# linux
#
################################################################################

# The kernel: a kernel.org version (the latest one or a custom version), a
# custom tarball or a git repository (git downloads need a primary site here).
LINUX_VERSION = $(call qstrip,$(BR2_LINUX_KERNEL_VERSION))
LINUX_LICENSE = GPL-2.0
LINUX_LICENSE_FILES = LICENSE

ifeq ($(BR2_LINUX_KERNEL_CUSTOM_TARBALL),y)
LINUX_TARBALL = $(call qstrip,$(BR2_LINUX_KERNEL_CUSTOM_TARBALL_LOCATION))
LINUX_SITE = $(patsubst %/,%,$(dir $(LINUX_TARBALL)))
LINUX_SOURCE = $(notdir $(LINUX_TARBALL))
else ifeq ($(BR2_LINUX_KERNEL_CUSTOM_GIT),y)
LINUX_SITE = $(call qstrip,$(BR2_LINUX_KERNEL_CUSTOM_REPO_URL))
LINUX_SITE_METHOD = git
else
LINUX_SOURCE = $(if $(LINUX_VERSION),linux-$(LINUX_VERSION).tar.gz)
LINUX_SITE = https://sources.skiffbuild.invalid/linux/v$(firstword $(subst ., ,$(LINUX_VERSION))).x
endif

# Only the latest version is hash-checked by default (custom ones need
# BR2_DOWNLOAD_FORCE_CHECK_HASHES and a hash in BR2_GLOBAL_PATCH_DIR).
ifeq ($(BR2_LINUX_KERNEL)$(BR2_LINUX_KERNEL_LATEST_VERSION),y)
BR_NO_CHECK_HASH_FOR += $(LINUX_SOURCE)
endif

# Patches given as URLs are downloaded with the kernel.
LINUX_PATCHES = $(call qstrip,$(BR2_LINUX_KERNEL_PATCH))
BR_NO_CHECK_HASH_FOR += $(notdir $(LINUX_PATCHES))
LINUX_PATCH = $(filter ftp://% http://% https://%,$(LINUX_PATCHES))

LINUX_INSTALL_IMAGES = YES
LINUX_DEPENDENCIES = host-kmod \
	$(if $(BR2_LINUX_KERNEL_NEEDS_HOST_OPENSSL),host-openssl) \
	$(if $(BR2_LINUX_KERNEL_XZ),host-xz)

# Stand-in build: no compilation.
#
# x86_64 with a bzImage: the kernel is the build machine's copy of a real
# Debian kernel (TESTTREE_KERNEL_DIR, made by scripts/setup: vmlinuz and the
# modules listed in linux/testtree-kernel.modules with their dependencies).
# images/bzImage is that vmlinuz; the modules go to the target's
# /lib/modules/<its release>/ with a modules.dep (made at target-finalize,
# like Buildroot's depmod hook), and /usr/lib/modules-load.d/ lists the
# modules of testtree-kernel.modules, which the tree's init loads at boot.
#
# Anything else (aarch64 Image, arm zImage...): a small deterministic file
# with the kernel image's header, and for BR2_LINUX_KERNEL_DTS_SUPPORT one
# minimal device tree blob per BR2_LINUX_KERNEL_INTREE_DTS_NAME and
# BR2_LINUX_KERNEL_CUSTOM_DTS_PATH entry, named after its basename.
#
# The configuration (BR2_LINUX_KERNEL_DEFCONFIG or the custom config file,
# then BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES) is only recorded in the build
# directory's .config; changing a fragment rebuilds the kernel.

ifeq ($(BR2_LINUX_KERNEL_USE_CUSTOM_CONFIG),y)
LINUX_KCONFIG_FILE = $(call qstrip,$(BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE))
endif
LINUX_KCONFIG_FRAGMENT_FILES = $(call qstrip,$(BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES))

LINUX_IMAGE_NAME = $(call qstrip,$(BR2_LINUX_KERNEL_IMAGE_NAME))
ifeq ($(LINUX_IMAGE_NAME),)
ifeq ($(BR2_LINUX_KERNEL_IMAGE_TARGET_CUSTOM),y)
LINUX_IMAGE_NAME = $(call qstrip,$(BR2_LINUX_KERNEL_IMAGE_TARGET_NAME))
else ifeq ($(BR2_LINUX_KERNEL_UIMAGE),y)
LINUX_IMAGE_NAME = uImage
else ifeq ($(BR2_LINUX_KERNEL_BZIMAGE),y)
LINUX_IMAGE_NAME = bzImage
else ifeq ($(BR2_LINUX_KERNEL_ZIMAGE),y)
LINUX_IMAGE_NAME = zImage
else ifeq ($(BR2_LINUX_KERNEL_IMAGE),y)
LINUX_IMAGE_NAME = Image
else ifeq ($(BR2_LINUX_KERNEL_IMAGEGZ),y)
LINUX_IMAGE_NAME = Image.gz
else ifeq ($(BR2_LINUX_KERNEL_VMLINUX),y)
LINUX_IMAGE_NAME = vmlinux
endif
endif

LINUX_DTS_NAME = $(call qstrip,$(BR2_LINUX_KERNEL_INTREE_DTS_NAME)) \
	$(basename $(filter %.dts,$(notdir $(call qstrip,$(BR2_LINUX_KERNEL_CUSTOM_DTS_PATH)))))
LINUX_DTBS = $(if $(BR2_LINUX_KERNEL_DTS_SUPPORT),$(addsuffix .dtb,$(notdir $(LINUX_DTS_NAME))))

# The real kernel, or a stand-in.
ifeq ($(BR2_x86_64)$(LINUX_IMAGE_NAME),ybzImage)
LINUX_REAL_KERNEL = y
LINUX_RELEASE = $(notdir $(firstword $(wildcard $(TESTTREE_KERNEL_DIR)/lib/modules/*)))
LINUX_TESTTREE_MODULES = $(shell sed -e 's/\#.*//' $(LINUX_PKGDIR)/testtree-kernel.modules)
endif

define LINUX_BUILD_CMDS
	$(Q)mkdir -p $(@D)/images
	$(if $(LINUX_REAL_KERNEL),$(LINUX_BUILD_REAL),$(LINUX_BUILD_STANDIN))
endef

define LINUX_BUILD_REAL
	$(Q)test -f $(TESTTREE_KERNEL_DIR)/vmlinuz -a -n "$(LINUX_RELEASE)" || { \
		echo "linux: no kernel in $(TESTTREE_KERNEL_DIR) (vmlinuz and lib/modules/<release>/):" \
			"run scripts/setup, or pass TESTTREE_KERNEL_DIR=<dir> to make" >&2; \
		exit 1; }
	$(Q)cp $(TESTTREE_KERNEL_DIR)/vmlinuz $(@D)/images/$(LINUX_IMAGE_NAME)
	$(Q)rm -rf $(@D)/modules
	$(Q)mkdir -p $(@D)/modules/lib/modules
	$(Q)cp -R $(TESTTREE_KERNEL_DIR)/lib/modules/$(LINUX_RELEASE) $(@D)/modules/lib/modules/
	$(Q)rm -f $(@D)/modules/lib/modules/$(LINUX_RELEASE)/modules.dep
	$(Q)mkdir -p $(@D)/modules/usr/lib/modules-load.d
	$(Q)printf '%s\n' '# Loaded at boot (linux/testtree-kernel.modules of the test tree).' \
		$(LINUX_TESTTREE_MODULES) > $(@D)/modules/usr/lib/modules-load.d/10-skiffbuild-testtree.conf
endef

define LINUX_BUILD_STANDIN
	$(Q)$(STANDIN_PYTHON) $(TOPDIR)/support/testing/stand-in-blob kernel \
		$(NORMALIZED_ARCH) $(LINUX_IMAGE_NAME) $(LINUX_VERSION) > $(@D)/images/$(LINUX_IMAGE_NAME)
	$(foreach dts,$(LINUX_DTS_NAME),\
		$(Q)$(STANDIN_PYTHON) $(TOPDIR)/support/testing/stand-in-blob dtb \
			$(notdir $(dts)) > $(@D)/images/$(notdir $(dts)).dtb$(sep))
endef

define LINUX_INSTALL_IMAGES_CMDS
	$(Q)install -D -m 0644 $(@D)/images/$(LINUX_IMAGE_NAME) $(BINARIES_DIR)/$(LINUX_IMAGE_NAME)
	$(foreach dtb,$(LINUX_DTBS),\
		$(Q)install -D -m 0644 $(@D)/images/$(dtb) $(BINARIES_DIR)/$(dtb)$(sep))
endef

define LINUX_INSTALL_TARGET_CMDS
	$(if $(LINUX_REAL_KERNEL),$(Q)rsync -a --keep-dirlinks $(@D)/modules/ $(TARGET_DIR)/)
	$(if $(BR2_LINUX_KERNEL_INSTALL_TARGET),\
		$(Q)install -D -m 0644 $(@D)/images/$(LINUX_IMAGE_NAME) $(TARGET_DIR)/boot/$(LINUX_IMAGE_NAME)$(sep)\
		$(foreach dtb,$(LINUX_DTBS),$(Q)install -D -m 0644 $(@D)/images/$(dtb) $(TARGET_DIR)/boot/$(dtb)$(sep)))
endef

# depmod: once everything is installed (support/scripts/kmodules).
define LINUX_RUN_DEPMOD
	$(Q)for d in $(TARGET_DIR)/lib/modules/*/; do \
		[ ! -d "$$d" ] || $(STANDIN_PYTHON) $(TOPDIR)/support/scripts/kmodules depmod "$$d" || exit 1; \
	done
endef
LINUX_TARGET_FINALIZE_HOOKS += LINUX_RUN_DEPMOD

$(eval $(generic-package))
$(eval $(call standin-kconfig,linux,LINUX))
