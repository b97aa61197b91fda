################################################################################
#
# Filesystem images of the skiffbuild test tree: the part of Buildroot's
# fs/common.mk that show-info and source depend on.
#
# fs/<type>/<type>.mk sets ROOTFS_<TYPE>_DEPENDENCIES (and optionally
# ROOTFS_<TYPE>_IMAGE_NAME, default rootfs.<type>) and ends with
# $(eval $(rootfs)). An image enabled by BR2_TARGET_ROOTFS_<TYPE> is in
# TARGETS_ROOTFS, depends on rootfs-common (the tools every image needs),
# and the packages it needs are added to PACKAGES, as in Buildroot.
#
################################################################################

TARGETS_ROOTFS :=
ROOTFS_ALL :=

ROOTFS_USERS_TABLES = $(call qstrip,$(BR2_ROOTFS_USERS_TABLES))

ROOTFS_COMMON_NAME = rootfs-common
ROOTFS_COMMON_TYPE = rootfs
ROOTFS_COMMON_IMAGE_NAME =
ROOTFS_COMMON_DEPENDENCIES = host-fakeroot host-makedevs \
	$(if $(ROOTFS_USERS_TABLES),host-mkpasswd)

# $(1): type (ext2), $(2): variable suffix (EXT2)
define inner-rootfs
ROOTFS_$(2)_NAME = rootfs-$(1)
ROOTFS_$(2)_TYPE = rootfs
ROOTFS_$(2)_IMAGE_NAME ?= rootfs.$(1)
ROOTFS_$(2)_DEPENDENCIES += rootfs-common
ifeq ($$(BR2_TARGET_ROOTFS_$(2)_XZ),y)
ROOTFS_$(2)_DEPENDENCIES += host-xz
endif
ROOTFS_ALL += ROOTFS_$(2)

ifeq ($$(BR2_TARGET_ROOTFS_$(2)),y)
ROOTFS_$(2)_ENABLED := y
TARGETS_ROOTFS += rootfs-$(1)
PACKAGES += $$(filter-out rootfs-%,$$(ROOTFS_$(2)_DEPENDENCIES)) $$(ROOTFS_COMMON_DEPENDENCIES)
endif
endef

rootfs = $(call inner-rootfs,$(pkgname),$(call UPPERCASE,$(pkgname)))

include $(sort $(wildcard fs/*/*.mk))
