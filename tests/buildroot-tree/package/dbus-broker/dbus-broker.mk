################################################################################
#
# dbus-broker
#
################################################################################

DBUS_BROKER_VERSION = 36
DBUS_BROKER_SITE = https://sources.skiffbuild.invalid/dbus-broker
DBUS_BROKER_LICENSE = \
	Apache-2.0, \
	Apache-2.0 and/or LGPL-2.1+ (c-dvar, c-ini, c-list, c-rbtree, c-shquote, c-stdaux, c-utf8)
DBUS_BROKER_LICENSE_FILES = \
	LICENSE \
	subprojects/libcdvar-1/AUTHORS subprojects/libcdvar-1/README.md \
	subprojects/libcini-1/AUTHORS subprojects/libcini-1/README.md \
	subprojects/libclist-3/AUTHORS subprojects/libclist-3/README.md \
	subprojects/libcrbtree-3/AUTHORS subprojects/libcrbtree-3/README.md \
	subprojects/libcshquote-1/AUTHORS subprojects/libcshquote-1/README.md \
	subprojects/libcstdaux-1/AUTHORS subprojects/libcstdaux-1/README.md \
	subprojects/libcutf8-1/AUTHORS subprojects/libcutf8-1/README.md

DBUS_BROKER_DEPENDENCIES = expat $(if $(BR2_PACKAGE_SYSTEMD),systemd)

$(eval $(generic-package))
