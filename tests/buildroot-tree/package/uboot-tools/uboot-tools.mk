################################################################################
#
# uboot-tools
#
################################################################################

UBOOT_TOOLS_VERSION = 2025.10
UBOOT_TOOLS_SITE = https://sources.skiffbuild.invalid/uboot-tools
UBOOT_TOOLS_LICENSE = GPL-2.0+
UBOOT_TOOLS_LICENSE_FILES = Licenses/gpl-2.0.txt

UBOOT_TOOLS_SOURCE = u-boot-$(UBOOT_TOOLS_VERSION).tar.gz
HOST_UBOOT_TOOLS_DEPENDENCIES = host-dtc

# The build machine's mkimage.
define HOST_UBOOT_TOOLS_INSTALL_CMDS
	$(call host-tool-wrappers,bin/mkimage bin/dumpimage)
endef

$(eval $(host-generic-package))
