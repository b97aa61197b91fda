################################################################################
#
# skeleton-init-common
#
################################################################################

# No download: the files are in this tree.

SKELETON_INIT_COMMON_ADD_TOOLCHAIN_DEPENDENCY = NO
SKELETON_INIT_COMMON_ADD_SKELETON_DEPENDENCY = NO
SKELETON_INIT_COMMON_INSTALL_STAGING = YES

$(eval $(generic-package))
