################################################################################
#
# uboot
#
################################################################################

UBOOT_VERSION = $(call qstrip,$(BR2_TARGET_UBOOT_VERSION))
UBOOT_LICENSE = GPL-2.0+
# Buildroot takes it from BR2_TARGET_UBOOT_LICENSE_FILES (a prompt for
# custom sources only), whose default this is; the tree has no such symbol.
UBOOT_LICENSE_FILES = Licenses/gpl-2.0.txt

ifeq ($(BR2_TARGET_UBOOT_CUSTOM_TARBALL),y)
UBOOT_TARBALL = $(call qstrip,$(BR2_TARGET_UBOOT_CUSTOM_TARBALL_LOCATION))
UBOOT_SITE = $(patsubst %/,%,$(dir $(UBOOT_TARBALL)))
UBOOT_SOURCE = $(notdir $(UBOOT_TARBALL))
else ifeq ($(BR2_TARGET_UBOOT_CUSTOM_GIT),y)
UBOOT_SITE = $(call qstrip,$(BR2_TARGET_UBOOT_CUSTOM_REPO_URL))
UBOOT_SITE_METHOD = git
else
UBOOT_SITE = https://sources.skiffbuild.invalid/uboot
UBOOT_SOURCE = $(if $(UBOOT_VERSION),u-boot-$(UBOOT_VERSION).tar.gz)
endif

ifeq ($(BR2_TARGET_UBOOT)$(BR2_TARGET_UBOOT_LATEST_VERSION),y)
BR_NO_CHECK_HASH_FOR += $(UBOOT_SOURCE)
endif

UBOOT_INSTALL_IMAGES = YES
UBOOT_DEPENDENCIES = host-dtc

$(eval $(generic-package))
