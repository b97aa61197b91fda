################################################################################
#
# squashfs image of the root filesystem
#
################################################################################

ROOTFS_SQUASHFS_DEPENDENCIES = host-squashfs

$(eval $(rootfs))
