################################################################################
#
# mkpasswd
#
################################################################################

# No download: the sources are in this directory.

HOST_MKPASSWD_LICENSE = GPL-2.0+

# host/bin/mkpasswd: BusyBox's mkpasswd applet (of TESTTREE_BUSYBOX).
define HOST_MKPASSWD_INSTALL_CMDS
	$(Q)mkdir -p $(HOST_DIR)/bin
	$(Q)printf '#!/bin/sh\nexec %s mkpasswd "$$@"\n' '$(TESTTREE_BUSYBOX)' > $(HOST_DIR)/bin/mkpasswd
	$(Q)chmod 0755 $(HOST_DIR)/bin/mkpasswd
endef

$(eval $(host-generic-package))
