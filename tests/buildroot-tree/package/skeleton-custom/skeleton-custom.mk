################################################################################
#
# skeleton-custom
#
################################################################################

# No download: the files are in this tree.

SKELETON_CUSTOM_ADD_TOOLCHAIN_DEPENDENCY = NO
SKELETON_CUSTOM_ADD_SKELETON_DEPENDENCY = NO
SKELETON_CUSTOM_PROVIDES = skeleton

$(eval $(generic-package))
