################################################################################
#
# initscripts
#
################################################################################

# No download: the scripts are in this directory.

# /etc/init.d/rcS and rcK: start or stop the /etc/init.d/S??* scripts in
# order (the tree's init runs rcS at boot).
define INITSCRIPTS_INSTALL_TARGET_CMDS
	$(Q)install -D -m 0755 $(INITSCRIPTS_PKGDIR)/init.d/rcS $(TARGET_DIR)/etc/init.d/rcS
	$(Q)install -D -m 0755 $(INITSCRIPTS_PKGDIR)/init.d/rcK $(TARGET_DIR)/etc/init.d/rcK
endef

$(eval $(generic-package))
