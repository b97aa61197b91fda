################################################################################
#
# dropbear
#
################################################################################

DROPBEAR_VERSION = 2026.91
DROPBEAR_SITE = https://sources.skiffbuild.invalid/dropbear
DROPBEAR_LICENSE = MIT, BSD-2-Clause, Public domain
DROPBEAR_LICENSE_FILES = LICENSE

DROPBEAR_DEPENDENCIES = \
	$(if $(BR2_PACKAGE_ZLIB),zlib) \
	$(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt)

# Stand-in programs (they print a line and exit) and a systemd unit.
define DROPBEAR_INSTALL_TARGET_CMDS
	$(foreach p,/usr/sbin/dropbear /usr/bin/dropbearkey /usr/bin/dbclient,\
		$(call standin-program,$(TARGET_DIR)$(p),dropbear $(DROPBEAR_VERSION))$(sep))
	$(Q)ln -snf dbclient $(TARGET_DIR)/usr/bin/ssh
endef

define DROPBEAR_INSTALL_INIT_SYSTEMD
	$(Q)install -D -m 0644 $(DROPBEAR_PKGDIR)/dropbear.service \
		$(TARGET_DIR)/usr/lib/systemd/system/dropbear.service
endef

$(eval $(generic-package))
