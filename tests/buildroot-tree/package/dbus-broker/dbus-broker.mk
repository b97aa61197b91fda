################################################################################
#
# dbus-broker
#
################################################################################

DBUS_BROKER_VERSION = 36
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
