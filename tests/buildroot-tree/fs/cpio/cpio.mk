################################################################################
#
# cpio archive of the root filesystem
#
################################################################################

ifeq ($(BR2_TARGET_ROOTFS_CPIO_DRACUT),y)
ROOTFS_CPIO_DEPENDENCIES += host-dracut
endif
ifeq ($(BR2_TARGET_ROOTFS_CPIO_UIMAGE),y)
ROOTFS_CPIO_DEPENDENCIES += host-uboot-tools
endif

# The kernel runs /init of an initramfs. With a static /dev that is /sbin/init
# itself; otherwise fs/cpio/init, which mounts devtmpfs first (the kernel
# does not for an initramfs) and then runs /sbin/init. /dev/console must be
# in the archive: the kernel opens it for init's stdin/stdout/stderr before
# anything is mounted.
ifeq ($(BR2_ROOTFS_DEVICE_CREATION_STATIC),y)
define ROOTFS_CPIO_ADD_INIT
	if [ ! -e $(TARGET_DIR)/init ]; then ln -sf sbin/init $(TARGET_DIR)/init; fi
endef
else
define ROOTFS_CPIO_ADD_INIT
	if [ ! -e $(TARGET_DIR)/init ]; then install -m 0755 $(TOPDIR)/fs/cpio/init $(TARGET_DIR)/init; fi
	mkdir -p $(TARGET_DIR)/dev
	mknod -m 0622 $(TARGET_DIR)/dev/console c 5 1
endef
endif
ROOTFS_CPIO_PRE_GEN_HOOKS += ROOTFS_CPIO_ADD_INIT

# Entries sorted by byte value; --reproducible drops the build machine's
# inode and device numbers.
ifeq ($(BR2_REPRODUCIBLE),y)
ROOTFS_CPIO_OPTS += --reproducible
endif

define ROOTFS_CPIO_CMD
	cd $(TARGET_DIR) && find . | LC_ALL=C sort | cpio $(ROOTFS_CPIO_OPTS) --quiet -o -H newc > $@
endef

$(eval $(rootfs))
