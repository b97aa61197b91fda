################################################################################
#
# skeleton-custom
#
################################################################################

# No download: the files are in this tree.

SKELETON_CUSTOM_ADD_TOOLCHAIN_DEPENDENCY = NO
SKELETON_CUSTOM_ADD_SKELETON_DEPENDENCY = NO
SKELETON_CUSTOM_PROVIDES = skeleton

# BR2_ROOTFS_SKELETON_CUSTOM_PATH, copied as the default skeleton is.
SKELETON_CUSTOM_PATH = $(call qstrip,$(BR2_ROOTFS_SKELETON_CUSTOM_PATH))
SKELETON_CUSTOM_INSTALL_STAGING = YES

define SKELETON_CUSTOM_INSTALL_TARGET_CMDS
	$(Q)test -d "$(SKELETON_CUSTOM_PATH)" || { \
		echo "skeleton-custom: BR2_ROOTFS_SKELETON_CUSTOM_PATH '$(SKELETON_CUSTOM_PATH)' is not a directory" >&2; \
		exit 1; }
	$(Q)$(call SYSTEM_RSYNC,$(SKELETON_CUSTOM_PATH),$(TARGET_DIR))
endef

define SKELETON_CUSTOM_INSTALL_STAGING_CMDS
	$(Q)$(call SYSTEM_RSYNC,$(SKELETON_CUSTOM_PATH),$(STAGING_DIR))
	$(Q)install -d -m 0755 $(STAGING_DIR)/usr/include
endef

$(eval $(generic-package))
