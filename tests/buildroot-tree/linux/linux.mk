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

$(eval $(generic-package))
