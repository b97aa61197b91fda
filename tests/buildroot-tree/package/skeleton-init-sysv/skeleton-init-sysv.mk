################################################################################
#
# skeleton-init-sysv
#
################################################################################

# No download: the files are in this tree.

SKELETON_INIT_SYSV_ADD_TOOLCHAIN_DEPENDENCY = NO
SKELETON_INIT_SYSV_ADD_SKELETON_DEPENDENCY = NO
SKELETON_INIT_SYSV_DEPENDENCIES = skeleton-init-common
SKELETON_INIT_SYSV_PROVIDES = skeleton

# What BusyBox and SysV init expect of the root filesystem: /var/run and
# /var/lock into /run, /home, /etc/fstab.
define SKELETON_INIT_SYSV_INSTALL_TARGET_CMDS
	$(Q)mkdir -p $(TARGET_DIR)/home $(TARGET_DIR)/var
	$(Q)ln -snf ../run $(TARGET_DIR)/var/run
	$(Q)ln -snf ../run/lock $(TARGET_DIR)/var/lock
	$(Q)echo "/dev/root / auto rw 0 1" > $(TARGET_DIR)/etc/fstab
endef

$(eval $(generic-package))
