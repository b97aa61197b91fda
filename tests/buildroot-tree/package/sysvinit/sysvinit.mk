################################################################################
#
# sysvinit
#
################################################################################

SYSVINIT_VERSION = 3.14
SYSVINIT_SITE = https://sources.skiffbuild.invalid/sysvinit
SYSVINIT_LICENSE = GPL-2.0+
SYSVINIT_LICENSE_FILES = COPYING

SYSVINIT_DEPENDENCIES = $(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt)

# The tree's init (support/testing/stand-in-init) as /sbin/init; it runs
# /etc/init.d/rcS.
define SYSVINIT_INSTALL_TARGET_CMDS
	$(Q)rm -f $(TARGET_DIR)/sbin/init
	$(Q)install -D -m 0755 $(TOPDIR)/support/testing/stand-in-init $(TARGET_DIR)/sbin/init
endef

$(eval $(generic-package))
