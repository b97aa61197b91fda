################################################################################
#
# skeleton-init-none
#
################################################################################

# No download: the files are in this tree.

SKELETON_INIT_NONE_ADD_TOOLCHAIN_DEPENDENCY = NO
SKELETON_INIT_NONE_ADD_SKELETON_DEPENDENCY = NO
SKELETON_INIT_NONE_DEPENDENCIES = skeleton-init-common
SKELETON_INIT_NONE_PROVIDES = skeleton

# No init system: only /var/run and /var/lock into /run.
define SKELETON_INIT_NONE_INSTALL_TARGET_CMDS
	$(Q)mkdir -p $(TARGET_DIR)/var
	$(Q)ln -snf ../run $(TARGET_DIR)/var/run
	$(Q)ln -snf ../run/lock $(TARGET_DIR)/var/lock
endef

$(eval $(generic-package))
