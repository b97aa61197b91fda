################################################################################
#
# initramfs: the cpio archive built into the kernel
#
################################################################################

ROOTFS_INITRAMFS_DEPENDENCIES = rootfs-cpio linux

$(eval $(rootfs))
