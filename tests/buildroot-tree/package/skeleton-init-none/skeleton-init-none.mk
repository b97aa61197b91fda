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

$(eval $(generic-package))
