################################################################################
#
# ext2/3/4 image of the root filesystem
#
# host-e2fsprogs provides mkfs.ext<N> (the build machine's mke2fs, see
# package/e2fsprogs/). With BR2_REPRODUCIBLE the test tree passes a UUID and
# htree hash seed derived from the image name and label (before the
# configured BR2_TARGET_ROOTFS_EXT2_MKFS_OPTIONS, so an explicit -U wins;
# mke2fs keeps only the last -E), and sets E2FSPROGS_FAKE_TIME; the wrapper
# then clamps every inode time to SOURCE_DATE_EPOCH, as e2fsprogs >= 1.47.1
# does.
#
################################################################################

ROOTFS_EXT2_SIZE = $(call qstrip,$(BR2_TARGET_ROOTFS_EXT2_SIZE))
ifeq ($(BR2_TARGET_ROOTFS_EXT2)-$(ROOTFS_EXT2_SIZE),y-)
$(error BR2_TARGET_ROOTFS_EXT2_SIZE cannot be empty)
endif

ROOTFS_EXT2_MKFS_OPTS = $(call qstrip,$(BR2_TARGET_ROOTFS_EXT2_MKFS_OPTIONS))
ROOTFS_EXT2_LABEL = $(subst ",,$(BR2_TARGET_ROOTFS_EXT2_LABEL))
#"  (balances the quote above for editors)

ifeq ($(BR2_REPRODUCIBLE),y)
ROOTFS_EXT2_UUID = $(shell $(STANDIN_PYTHON) -c 'import sys, uuid; \
	print(uuid.uuid5(uuid.NAMESPACE_URL, "skiffbuild-testtree:" + sys.argv[1]))' \
	'$(ROOTFS_EXT2_FINAL_IMAGE_NAME):$(ROOTFS_EXT2_LABEL):$(1)')
ROOTFS_EXT2_REPRO_OPTS = -U $(call ROOTFS_EXT2_UUID,fs) -E hash_seed=$(call ROOTFS_EXT2_UUID,hash)
ROOTFS_EXT2_ENV = E2FSPROGS_FAKE_TIME=$(SOURCE_DATE_EPOCH)
endif

ROOTFS_EXT2_OPTS = \
	-d $(TARGET_DIR) \
	-N $(BR2_TARGET_ROOTFS_EXT2_INODES) \
	-m $(BR2_TARGET_ROOTFS_EXT2_RESBLKS) \
	-L "$(ROOTFS_EXT2_LABEL)" \
	-I $(BR2_TARGET_ROOTFS_EXT2_INODE_SIZE) \
	$(ROOTFS_EXT2_REPRO_OPTS) \
	$(ROOTFS_EXT2_MKFS_OPTS)

ROOTFS_EXT2_DEPENDENCIES = host-e2fsprogs

define ROOTFS_EXT2_CMD
	rm -f $@
	$(ROOTFS_EXT2_ENV) $(HOST_DIR)/sbin/mkfs.ext$(BR2_TARGET_ROOTFS_EXT2_GEN) -q $(ROOTFS_EXT2_OPTS) $@ \
		"$(ROOTFS_EXT2_SIZE)" \
	|| { ret=$$?; \
	     echo "*** Maybe you need to increase the filesystem size (BR2_TARGET_ROOTFS_EXT2_SIZE)" 1>&2; \
	     exit $$ret; \
	}
endef

ifneq ($(BR2_TARGET_ROOTFS_EXT2_GEN),2)
define ROOTFS_EXT2_SYMLINK
	ln -sf rootfs.ext2$(ROOTFS_EXT2_COMPRESS_EXT) $(BINARIES_DIR)/rootfs.ext$(BR2_TARGET_ROOTFS_EXT2_GEN)$(ROOTFS_EXT2_COMPRESS_EXT)
endef
ROOTFS_EXT2_POST_GEN_HOOKS += ROOTFS_EXT2_SYMLINK
endif

$(eval $(rootfs))
