################################################################################
#
# tar archive of the root filesystem
#
# Entries sorted by byte value, numeric owners, no access/change times.
#
################################################################################

ROOTFS_TAR_DEPENDENCIES =

TAR_OPTS = $(call qstrip,$(BR2_TARGET_ROOTFS_TAR_OPTIONS)) \
	--pax-option=exthdr.name=%d/PaxHeaders/%f,atime:=0,ctime:=0

define ROOTFS_TAR_CMD
	(cd $(TARGET_DIR); find -print0 | LC_ALL=C sort -z | \
		tar $(TAR_OPTS) -cf $@ --null --xattrs-include='*' --no-recursion -T - --numeric-owner)
endef

$(eval $(rootfs))
