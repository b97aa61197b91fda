################################################################################
#
# systemd
#
################################################################################

SYSTEMD_VERSION = 258.7
SYSTEMD_SITE = https://sources.skiffbuild.invalid/systemd
SYSTEMD_LICENSE = \
	LGPL-2.1+, \
	GPL-2.0+ (udev), \
	Public Domain (few source files, see LICENSES/README.md), \
	BSD-2-Clause (eBPF instruction mini library), \
	BSD-3-Clause (tools/chromiumos), \
	CC0-1.0 (few source files, see LICENSES/README.md), \
	GPL-2.0 with Linux-syscall-note (linux kernel headers), \
	MIT-0 (few source files, see LICENSES/README.md), \
	MIT (few source files, see LICENSES/README.md), \
	OFL-1.1 (Heebo fonts)
SYSTEMD_LICENSE_FILES = \
	LICENSE.GPL2 \
	LICENSE.LGPL2.1 \
	LICENSES/alg-sha1-public-domain.txt \
	LICENSES/BSD-2-Clause.txt \
	LICENSES/BSD-3-Clause.txt \
	LICENSES/CC0-1.0.txt \
	LICENSES/LGPL-2.0-or-later.txt \
	LICENSES/Linux-syscall-note.txt \
	LICENSES/lookup3-public-domain.txt \
	LICENSES/MIT-0.txt \
	LICENSES/MIT.txt \
	LICENSES/murmurhash2-public-domain.txt \
	LICENSES/OFL-1.1.txt \
	LICENSES/README.md

SYSTEMD_DEPENDENCIES = util-linux libcap kmod \
	$(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt) \
	$(if $(BR2_PACKAGE_DBUS),dbus)
SYSTEMD_PROVIDES = udev
SYSTEMD_INSTALL_STAGING = YES
HOST_SYSTEMD_DEPENDENCIES = host-util-linux

# Stand-in build: systemd cannot be built here. The package installs the
# tree's init (support/testing/stand-in-init) as /usr/lib/systemd/systemd,
# /sbin/init pointing to it, the unit and preset directories and an empty
# 80-buildroot.preset, as Buildroot's does, and systemctl with reboot,
# poweroff and halt linked to it (package/systemd/target-systemctl: those
# three verbs, which shut the system down as systemd would; the init cannot
# act on BusyBox's signals). host-systemd installs the
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
	$(Q)install -D -m 0755 $(SYSTEMD_PKGDIR)/target-systemctl $(TARGET_DIR)/usr/bin/systemctl
	$(Q)mkdir -p $(TARGET_DIR)/usr/sbin
	$(Q)$(foreach verb,reboot poweroff halt,ln -snf ../bin/systemctl $(TARGET_DIR)/usr/sbin/$(verb)$(sep))
endef

# systemd-networkd: a stand-in (package/systemd/systemd-networkd, a BusyBox
# shell script running udhcpc; README.md says what it supports) with its
# unit, enabled by preset-all like any unit with an [Install] section. As in
# Buildroot, BR2_SYSTEM_DHCP gets /etc/systemd/network/<iface>.network made
# from dhcp.network.
ifeq ($(BR2_PACKAGE_SYSTEMD_NETWORKD),y)
define SYSTEMD_INSTALL_NETWORKD
	$(Q)install -D -m 0755 $(SYSTEMD_PKGDIR)/systemd-networkd \
		$(TARGET_DIR)/usr/lib/systemd/systemd-networkd
	$(Q)install -D -m 0755 $(SYSTEMD_PKGDIR)/systemd-networkd-udhcpc \
		$(TARGET_DIR)/usr/lib/systemd/systemd-networkd-udhcpc
	$(Q)install -D -m 0644 $(SYSTEMD_PKGDIR)/systemd-networkd.service \
		$(TARGET_DIR)/usr/lib/systemd/system/systemd-networkd.service
	$(Q)mkdir -p $(TARGET_DIR)/etc/systemd/network $(TARGET_DIR)/usr/lib/systemd/network
endef
SYSTEMD_POST_INSTALL_TARGET_HOOKS += SYSTEMD_INSTALL_NETWORKD

SYSTEMD_NETWORKD_DHCP_IFACE = $(call qstrip,$(BR2_SYSTEM_DHCP))
ifneq ($(SYSTEMD_NETWORKD_DHCP_IFACE),)
define SYSTEMD_INSTALL_NETWORK_CONFS
	$(Q)mkdir -p $(TARGET_DIR)/etc/systemd/network
	$(Q)sed -e 's/SYSTEMD_NETWORKD_DHCP_IFACE/$(SYSTEMD_NETWORKD_DHCP_IFACE)/' \
		$(SYSTEMD_PKGDIR)/dhcp.network \
		> $(TARGET_DIR)/etc/systemd/network/$(SYSTEMD_NETWORKD_DHCP_IFACE).network
endef
endif
endif

define SYSTEMD_INSTALL_INIT_SYSTEMD
	$(SYSTEMD_INSTALL_NETWORK_CONFS)
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
