################################################################################
#
# makedevs
#
################################################################################

# No download: the source is in this directory.

MAKEDEVS_LICENSE = GPL-2.0

# host/bin/makedevs: package/makedevs/makedevs (Python, standard library).
define HOST_MAKEDEVS_INSTALL_CMDS
	$(Q)install -D -m 0755 $(HOST_MAKEDEVS_PKGDIR)/makedevs $(HOST_DIR)/bin/makedevs
endef

$(eval $(host-generic-package))
