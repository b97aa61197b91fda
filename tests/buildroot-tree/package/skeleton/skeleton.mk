################################################################################
#
# skeleton
#
################################################################################

# Virtual package (a provider package does the work) and the host
# skeleton every package depends on; neither downloads anything.

SKELETON_ADD_TOOLCHAIN_DEPENDENCY = NO
SKELETON_ADD_SKELETON_DEPENDENCY = NO

# host-skeleton: the layout of the host directory.
define HOST_SKELETON_INSTALL_CMDS
	$(Q)mkdir -p $(HOST_DIR)/bin $(HOST_DIR)/sbin $(HOST_DIR)/lib $(HOST_DIR)/include
	$(Q)ln -snf lib $(HOST_DIR)/lib64
	$(Q)ln -snf . $(HOST_DIR)/usr
endef

$(eval $(virtual-package))
$(eval $(host-generic-package))
