################################################################################
#
# systemd
#
################################################################################

SYSTEMD_VERSION = 258.7
SYSTEMD_SITE = https://sources.skiffbuild.invalid/systemd
SYSTEMD_LICENSE = LGPL-2.1+, GPL-2.0+ (udevadm, other utilities), MIT-0 (examples)
SYSTEMD_LICENSE_FILES = LICENSE

SYSTEMD_DEPENDENCIES = util-linux libcap kmod \
	$(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt) \
	$(if $(BR2_PACKAGE_DBUS),dbus)
SYSTEMD_PROVIDES = udev
SYSTEMD_INSTALL_STAGING = YES
HOST_SYSTEMD_DEPENDENCIES = host-util-linux

$(eval $(generic-package))
$(eval $(host-generic-package))
