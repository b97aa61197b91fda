################################################################################
#
# Filesystem images of the skiffbuild test tree, as Buildroot's fs/common.mk.
#
# fs/<type>/<type>.mk sets ROOTFS_<TYPE>_DEPENDENCIES, ROOTFS_<TYPE>_CMD (the
# command writing $@ from $(TARGET_DIR)) and optionally
# ROOTFS_<TYPE>_IMAGE_NAME (default rootfs.<type>), _PRE_GEN_HOOKS and
# _POST_GEN_HOOKS, and ends with $(eval $(rootfs)). An image enabled by
# BR2_TARGET_ROOTFS_<TYPE> is in TARGETS_ROOTFS, depends on rootfs-common (the
# tools every image needs), and the packages it needs are added to PACKAGES.
#
# Each image is made from its own copy of the target directory,
# $(BUILD_DIR)/buildroot-fs/<type>/target, by a script run under fakeroot:
# everything owned by root, the users tables (support/scripts/mkusers), the
# device tables (makedevs), the packages' ROOTFS_PRE_CMD_HOOKS (systemd's
# preset-all, /var factory...), BR2_ROOTFS_POST_FAKEROOT_SCRIPT, the image's
# pre-gen hooks, empty /run and /tmp, with BR2_REPRODUCIBLE every mtime set
# to SOURCE_DATE_EPOCH, then the image command. A compressed variant
# (BR2_TARGET_ROOTFS_<TYPE>_GZIP, ...) is written next to the image.
#
################################################################################

TARGETS_ROOTFS :=
ROOTFS_ALL :=

FS_DIR = $(BUILD_DIR)/buildroot-fs
ROOTFS_DEVICE_TABLES = $(call qstrip,$(BR2_ROOTFS_DEVICE_TABLE) \
	$(if $(BR2_ROOTFS_DEVICE_CREATION_STATIC),$(BR2_ROOTFS_STATIC_DEVICE_TABLE)))
ROOTFS_USERS_TABLES = $(call qstrip,$(BR2_ROOTFS_USERS_TABLES))
ROOTFS_FULL_DEVICES_TABLE = $(FS_DIR)/full_devices_table.txt
ROOTFS_FULL_USERS_TABLE = $(FS_DIR)/full_users_table.txt

ROOTFS_COMMON_NAME = rootfs-common
ROOTFS_COMMON_TYPE = rootfs
ROOTFS_COMMON_IMAGE_NAME =
ROOTFS_COMMON_DEPENDENCIES = host-fakeroot host-makedevs \
	$(if $(PACKAGES_USERS)$(ROOTFS_USERS_TABLES),host-mkpasswd)

ifeq ($(BR2_REPRODUCIBLE),y)
define ROOTFS_REPRODUCIBLE
	find $(TARGET_DIR) -print0 | xargs -0 -r touch -h -d @$(SOURCE_DATE_EPOCH)
endef
endif

# $(call PRINTF,TEXT): a shell command that prints TEXT (several lines, any
# characters) exactly, and a newline.
PRINTF = printf '$(subst ','\'',$(subst $(sep),\n,$(subst %,%%,$(subst \,\\,$(1)))))\n'

.PHONY: rootfs-common
rootfs-common: $(ROOTFS_COMMON_DEPENDENCIES) target-finalize
	@$(call MESSAGE,"Generating root filesystems common tables")
	$(Q)rm -rf $(FS_DIR)
	$(Q)mkdir -p $(FS_DIR)
	$(Q)$(call PRINTF,$(PACKAGES_USERS)) > $(ROOTFS_FULL_USERS_TABLE)
	$(Q)$(if $(ROOTFS_USERS_TABLES),cat $(ROOTFS_USERS_TABLES) >> $(ROOTFS_FULL_USERS_TABLE))
	$(Q)$(call PRINTF,$(PACKAGES_PERMISSIONS_TABLE)) > $(ROOTFS_FULL_DEVICES_TABLE)
	$(Q)$(if $(ROOTFS_DEVICE_TABLES),cat $(ROOTFS_DEVICE_TABLES) >> $(ROOTFS_FULL_DEVICES_TABLE))

rootfs-common-show-depends:
	@echo $(ROOTFS_COMMON_DEPENDENCIES)

# $(1): type (ext2), $(2): variable suffix (EXT2)
define inner-rootfs
ROOTFS_$(2)_NAME = rootfs-$(1)
ROOTFS_$(2)_TYPE = rootfs
ROOTFS_$(2)_IMAGE_NAME ?= rootfs.$(1)
ROOTFS_$(2)_FINAL_IMAGE_NAME = $$(strip $$(ROOTFS_$(2)_IMAGE_NAME))
ROOTFS_$(2)_DIR = $$(FS_DIR)/$(1)
ROOTFS_$(2)_TARGET_DIR = $$(ROOTFS_$(2)_DIR)/target
ROOTFS_$(2)_DEPENDENCIES += rootfs-common
ROOTFS_ALL += ROOTFS_$(2)

ifeq ($$(BR2_TARGET_ROOTFS_$(2)_GZIP),y)
ROOTFS_$(2)_COMPRESS_EXT = .gz
ROOTFS_$(2)_COMPRESS_CMD = gzip -9 -c -n
endif
ifeq ($$(BR2_TARGET_ROOTFS_$(2)_BZIP2),y)
ROOTFS_$(2)_COMPRESS_EXT = .bz2
ROOTFS_$(2)_COMPRESS_CMD = bzip2 -9 -c
endif
ifeq ($$(BR2_TARGET_ROOTFS_$(2)_XZ),y)
ROOTFS_$(2)_DEPENDENCIES += host-xz
ROOTFS_$(2)_COMPRESS_EXT = .xz
ROOTFS_$(2)_COMPRESS_CMD = xz -9 -C crc32 -c $$(if $$(BR2_REPRODUCIBLE),,-T $$(PARALLEL_JOBS))
endif
ifeq ($$(BR2_TARGET_ROOTFS_$(2)_ZSTD),y)
ROOTFS_$(2)_COMPRESS_EXT = .zst
ROOTFS_$(2)_COMPRESS_CMD = zstd -19 -z -f -T$$(PARALLEL_JOBS)
endif

$$(BINARIES_DIR)/$$(ROOTFS_$(2)_FINAL_IMAGE_NAME): ROOTFS = $(2)
$$(BINARIES_DIR)/$$(ROOTFS_$(2)_FINAL_IMAGE_NAME): FAKEROOT_SCRIPT = $$(ROOTFS_$(2)_DIR)/fakeroot
$$(BINARIES_DIR)/$$(ROOTFS_$(2)_FINAL_IMAGE_NAME): $$(ROOTFS_$(2)_DEPENDENCIES)
	@$$(call MESSAGE,"Generating filesystem image $$(ROOTFS_$(2)_FINAL_IMAGE_NAME)")
	$$(Q)mkdir -p $$(@D)
	$$(Q)rm -rf $$(ROOTFS_$(2)_DIR)
	$$(Q)mkdir -p $$(ROOTFS_$(2)_DIR)
	$$(Q)rsync -auH --exclude=/$$(notdir $$(TARGET_DIR_WARNING_FILE)) \
		$$(BASE_TARGET_DIR)/ $$(TARGET_DIR)
	$$(Q)echo '#!/bin/sh' > $$(FAKEROOT_SCRIPT)
	$$(Q)echo "set -e" >> $$(FAKEROOT_SCRIPT)
	$$(Q)echo "chown -h -R 0:0 $$(TARGET_DIR)" >> $$(FAKEROOT_SCRIPT)
	$$(Q)echo "$$(STANDIN_PYTHON) $$(TOPDIR)/support/scripts/mkusers \
		$$(ROOTFS_FULL_USERS_TABLE) $$(TARGET_DIR)" >> $$(FAKEROOT_SCRIPT)
	$$(Q)echo "$$(HOST_DIR)/bin/makedevs -d $$(ROOTFS_FULL_DEVICES_TABLE) $$(TARGET_DIR)" \
		>> $$(FAKEROOT_SCRIPT)
	$$(Q)$$(foreach hook,$$(ROOTFS_PRE_CMD_HOOKS),\
		$$(call PRINTF,$$($$(hook))) >> $$(FAKEROOT_SCRIPT);)
	$$(Q)$$(foreach s,$$(call qstrip,$$(BR2_ROOTFS_POST_FAKEROOT_SCRIPT)),\
		echo "echo '$$(TERM_BOLD)>>>   Executing fakeroot script $$(s)$$(TERM_RESET)'" \
			>> $$(FAKEROOT_SCRIPT); \
		echo $$(EXTRA_ENV) $$(s) $$(TARGET_DIR) $$(BR2_ROOTFS_POST_SCRIPT_ARGS) \
			$$(BR2_ROOTFS_POST_FAKEROOT_SCRIPT_ARGS) >> $$(FAKEROOT_SCRIPT);)
	$$(Q)$$(foreach hook,$$(ROOTFS_$(2)_PRE_GEN_HOOKS),\
		$$(call PRINTF,$$($$(hook))) >> $$(FAKEROOT_SCRIPT);)
	$$(Q)echo "find $$(TARGET_DIR)/run/ -mindepth 1 -prune -print0 | xargs -0r rm -rf --" \
		>> $$(FAKEROOT_SCRIPT)
	$$(Q)echo "find $$(TARGET_DIR)/tmp/ -mindepth 1 -prune -print0 | xargs -0r rm -rf --" \
		>> $$(FAKEROOT_SCRIPT)
	$$(Q)$$(call PRINTF,$$(ROOTFS_REPRODUCIBLE)) >> $$(FAKEROOT_SCRIPT)
	$$(Q)$$(call PRINTF,$$(ROOTFS_$(2)_CMD)) >> $$(FAKEROOT_SCRIPT)
	$$(Q)chmod a+x $$(FAKEROOT_SCRIPT)
	$$(Q)PATH=$$(BR_PATH) FAKEROOTDONTTRYCHOWN=1 $$(HOST_DIR)/bin/fakeroot -- $$(FAKEROOT_SCRIPT)
	$$(Q)rm -rf $$(TARGET_DIR)
ifneq ($$(ROOTFS_$(2)_COMPRESS_CMD),)
	$$(Q)PATH=$$(BR_PATH) $$(ROOTFS_$(2)_COMPRESS_CMD) $$@ > $$@$$(ROOTFS_$(2)_COMPRESS_EXT)
endif
	$$(foreach hook,$$(ROOTFS_$(2)_POST_GEN_HOOKS),$$(call $$(hook))$$(sep))

rootfs-$(1)-show-depends:
	@echo $$(ROOTFS_$(2)_DEPENDENCIES)

rootfs-$(1): $$(BINARIES_DIR)/$$(ROOTFS_$(2)_FINAL_IMAGE_NAME)

.PHONY: rootfs-$(1) rootfs-$(1)-show-depends

ifeq ($$(BR2_TARGET_ROOTFS_$(2)),y)
ROOTFS_$(2)_ENABLED := y
TARGETS_ROOTFS += rootfs-$(1)
PACKAGES += $$(filter-out rootfs-%,$$(ROOTFS_$(2)_DEPENDENCIES)) $$(ROOTFS_COMMON_DEPENDENCIES)
endif
endef

rootfs = $(call inner-rootfs,$(pkgname),$(call UPPERCASE,$(pkgname)))

include $(sort $(wildcard fs/*/*.mk))

# Images are regenerated by every build: they depend on the phony
# rootfs-common, as in Buildroot. target-finalize must not see ROOTFS.
$(TARGETS_ROOTFS): target-finalize
target-finalize: ROOTFS =
