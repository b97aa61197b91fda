################################################################################
#
# dbus
#
################################################################################

DBUS_VERSION = 1.14.10
DBUS_SITE = https://sources.skiffbuild.invalid/dbus
DBUS_LICENSE = AFL-2.1 or GPL-2.0+
DBUS_LICENSE_FILES = LICENSE

DBUS_DEPENDENCIES = expat
DBUS_INSTALL_STAGING = YES

$(eval $(generic-package))
