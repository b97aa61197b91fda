################################################################################
#
# dbus
#
################################################################################

DBUS_VERSION = 1.14.10
DBUS_SITE = https://sources.skiffbuild.invalid/dbus
DBUS_LICENSE = AFL-2.1 or GPL-2.0+ (library, tools), GPL-2.0+ (tools)
DBUS_LICENSE_FILES = COPYING

DBUS_DEPENDENCIES = expat
DBUS_INSTALL_STAGING = YES

$(eval $(generic-package))
