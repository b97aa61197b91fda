################################################################################
#
# syslinux
#
################################################################################

SYSLINUX_VERSION = 6.03
SYSLINUX_SITE = https://sources.skiffbuild.invalid/syslinux
SYSLINUX_LICENSE = GPL-2.0+
SYSLINUX_LICENSE_FILES = COPYING

SYSLINUX_INSTALL_IMAGES = YES
SYSLINUX_DEPENDENCIES = util-linux

$(eval $(generic-package))
