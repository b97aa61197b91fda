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

# Stand-in build: systemd cannot be built here. The package installs the
# tree's init (support/testing/stand-in-init) as /usr/lib/systemd/systemd,
# /sbin/init pointing to it, the unit and preset directories and an empty
# 80-buildroot.preset, as Buildroot's does. host-systemd installs the
# systemctl stand-in (package/systemd/systemctl) that the preset-all hook
# runs on each filesystem image: it enables units from the presets and
# writes the plan the init follows at boot.
define SYSTEMD_INSTALL_TARGET_CMDS
	$(Q)install -D -m 0755 $(TOPDIR)/support/testing/stand-in-init \
		$(TARGET_DIR)/usr/lib/systemd/systemd
	$(Q)mkdir -p $(TARGET_DIR)/sbin $(TARGET_DIR)/etc/systemd/system \
		$(TARGET_DIR)/usr/lib/systemd/system $(TARGET_DIR)/usr/lib/systemd/system-preset
	$(Q)ln -snf ../lib/systemd/systemd $(TARGET_DIR)/sbin/init
	$(Q)install -D -m 0644 $(SYSTEMD_PKGDIR)/80-buildroot.preset \
		$(TARGET_DIR)/usr/lib/systemd/system-preset/80-buildroot.preset
endef

define HOST_SYSTEMD_INSTALL_CMDS
	$(Q)install -D -m 0755 $(HOST_SYSTEMD_PKGDIR)/systemctl $(HOST_DIR)/bin/systemctl
endef

define SYSTEMD_PRESET_ALL
	$(HOST_DIR)/bin/systemctl --root=$(TARGET_DIR) preset-all
endef
SYSTEMD_ROOTFS_PRE_CMD_HOOKS += SYSTEMD_PRESET_ALL

$(eval $(generic-package))
$(eval $(host-generic-package))
