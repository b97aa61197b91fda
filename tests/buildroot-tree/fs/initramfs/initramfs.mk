################################################################################
#
# initramfs: the cpio archive built into the kernel
#
################################################################################

ROOTFS_INITRAMFS_DEPENDENCIES = rootfs-cpio linux

# Not built: the stand-in kernel cannot be relinked with the archive (use
# images/rootfs.cpio* as an initrd instead).
define ROOTFS_INITRAMFS_CMD
	echo "skiffbuild test tree: BR2_TARGET_ROOTFS_INITRAMFS is not supported (use the cpio image as an initrd)"
endef

$(eval $(rootfs))
