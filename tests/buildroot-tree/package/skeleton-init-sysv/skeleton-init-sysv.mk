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

$(eval $(generic-package))
