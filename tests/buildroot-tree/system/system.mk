################################################################################
#
# System helpers shared by the skeleton packages and target-finalize.
#
#   SYSTEM_RSYNC               copy a skeleton or overlay directory into place
#   SYSTEM_USR_SYMLINKS_OR_DIRS  /bin, /sbin, /lib: links into /usr (merged
#                              /usr) or directories; /usr/sbin -> bin with a
#                              merged bin
#   SYSTEM_LIB_SYMLINK         lib64 or lib32 -> lib
#
################################################################################

# Version control metadata and editor backups never reach the target.
RSYNC_VCS_EXCLUSIONS = --exclude .svn --exclude .git --exclude .hg --exclude .bzr --exclude CVS

# $(call SYSTEM_RSYNC,SRC,DEST): files readable by all, directories and
# executables searchable by all, whatever the source's modes.
define SYSTEM_RSYNC
	rsync -a --ignore-times $(RSYNC_VCS_EXCLUSIONS) \
		--chmod=u=rwX,go=rX --exclude .empty --exclude '*~' \
		$(1)/ $(2)/
endef

ifeq ($(BR2_ROOTFS_MERGED_USR),y)
define SYSTEM_USR_SYMLINKS_OR_DIRS
	ln -snf usr/bin $(1)/bin
	ln -snf usr/sbin $(1)/sbin
	ln -snf usr/lib $(1)/lib
	$(if $(BR2_ROOTFS_MERGED_BIN),ln -snf bin $(1)/usr/sbin,install -d -m 0755 $(1)/usr/sbin)
endef
else
define SYSTEM_USR_SYMLINKS_OR_DIRS
	install -d -m 0755 $(1)/bin $(1)/sbin $(1)/lib $(1)/usr/sbin
endef
endif

ifeq ($(BR2_ARCH_IS_64),y)
define SYSTEM_LIB_SYMLINK
	ln -snf lib $(1)/lib64
	ln -snf lib $(1)/usr/lib64
endef
else
define SYSTEM_LIB_SYMLINK
	ln -snf lib $(1)/lib32
	ln -snf lib $(1)/usr/lib32
endef
endif

SYSTEM_GETTY_PORT = $(call qstrip,$(BR2_TARGET_GENERIC_GETTY_PORT))
SYSTEM_GETTY_BAUDRATE = $(call qstrip,$(BR2_TARGET_GENERIC_GETTY_BAUDRATE))
SYSTEM_GETTY_TERM = $(call qstrip,$(BR2_TARGET_GENERIC_GETTY_TERM))
SYSTEM_GETTY_OPTIONS = $(call qstrip,$(BR2_TARGET_GENERIC_GETTY_OPTIONS))
