################################################################################
#
# dbus-broker
#
################################################################################

DBUS_BROKER_VERSION = 36
DBUS_BROKER_SITE = https://sources.skiffbuild.invalid/dbus-broker
DBUS_BROKER_LICENSE = Apache-2.0
DBUS_BROKER_LICENSE_FILES = LICENSE

DBUS_BROKER_DEPENDENCIES = expat $(if $(BR2_PACKAGE_SYSTEMD),systemd)

$(eval $(generic-package))
