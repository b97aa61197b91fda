################################################################################
#
# eudev
#
################################################################################

EUDEV_VERSION = 3.2.14
EUDEV_SITE = https://sources.skiffbuild.invalid/eudev
EUDEV_LICENSE = GPL-2.0+ (programs), LGPL-2.1+ (libraries)
EUDEV_LICENSE_FILES = COPYING

EUDEV_DEPENDENCIES = util-linux kmod
EUDEV_PROVIDES = udev
EUDEV_INSTALL_STAGING = YES

$(eval $(generic-package))
