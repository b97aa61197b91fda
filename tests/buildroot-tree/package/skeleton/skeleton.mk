################################################################################
#
# skeleton
#
################################################################################

# Virtual package (a provider package does the work) and the host
# skeleton every package depends on; neither downloads anything.

SKELETON_ADD_TOOLCHAIN_DEPENDENCY = NO
SKELETON_ADD_SKELETON_DEPENDENCY = NO

$(eval $(virtual-package))
$(eval $(host-generic-package))
