################################################################################
#
# Build steps of the skiffbuild test tree's packages, with Buildroot's stamp
# files, messages and per-package variables:
#
#   <PKG>_EXTRACT_CMDS          default: unpack <PKG>_SOURCE (first level stripped)
#   <PKG>_CONFIGURE_CMDS, _BUILD_CMDS
#   <PKG>_INSTALL_CMDS          host packages: into $(HOST_DIR)
#   <PKG>_INSTALL_STAGING_CMDS, _INSTALL_IMAGES_CMDS, _INSTALL_TARGET_CMDS
#   <PKG>_INSTALL_INIT_SYSTEMD, _INSTALL_INIT_SYSV   (with that init system)
#   <PKG>_{PRE,POST}_{EXTRACT,PATCH,CONFIGURE,BUILD,INSTALL,INSTALL_STAGING,
#          INSTALL_IMAGES,INSTALL_TARGET}_HOOKS     names of variables to expand
#   <PKG>_TARGET_FINALIZE_HOOKS, _ROOTFS_PRE_CMD_HOOKS, _USERS, _PERMISSIONS
#
# Nothing is compiled: packages copy files, write small stand-in programs or
# wrap the build machine's own tools (package/pkg-standin.mk). Every step
# prints ">>> <pkg> <version> <step>" as Buildroot does, and the build step
# honours TESTTREE_FAIL_PKG and TESTTREE_SLOW_PKG (README.md).
#
################################################################################

# Buildroot prints its messages in standout mode when the terminal type
# (TERM) knows it: the escape sequences end up in logs too.
TERM_BOLD := $(shell tput smso 2>/dev/null)
TERM_RESET := $(shell tput rmso 2>/dev/null)

# $(call MESSAGE,TEXT): ">>> <pkg> <version> TEXT" for the package of the
# current recipe, ">>>   TEXT" outside of packages.
MESSAGE = echo "$(TERM_BOLD)>>> $($(PKG)_NAME) $($(PKG)_VERSION) $(call qstrip,$(1))$(TERM_RESET)"

TAR_OPTIONS = $(call qstrip,$(BR2_TAR_OPTIONS)) -xf

# $(call pkg-inflate,FILE): the command that decompresses FILE to stdout.
pkg-inflate = $(strip \
	$(if $(filter %.gz %.tgz %.Z,$(1)),gzip -d -c,\
	$(if $(filter %.bz2 %.tbz2,$(1)),bzip2 -d -c,\
	$(if $(filter %.xz %.txz,$(1)),xz -d -c,\
	$(if $(filter %.zst,$(1)),zstd -d -c,\
	$(if $(filter %.lz,$(1)),lzip -d -c,cat))))))

APPLY_PATCHES = $(TOPDIR)/support/scripts/apply-patches

# Directories of BR2_GLOBAL_PATCH_DIR must exist, as in Buildroot.
$(foreach dir,$(call qstrip,$(BR2_GLOBAL_PATCH_DIR)),\
	$(if $(wildcard $(dir)),,\
		$(error BR2_GLOBAL_PATCH_DIR contains nonexistent directory $(dir))))

# $(call pkg-run-hooks,VARIABLE): expand each hook named in VARIABLE.
pkg-run-hooks = $(foreach hook,$($(1)),$(call $(hook))$(sep))

# Extract
$(BUILD_DIR)/%/.stamp_extracted:
	@$(call MESSAGE,"Extracting")
	$(call pkg-run-hooks,$(PKG)_PRE_EXTRACT_HOOKS)
	$(Q)mkdir -p $(@D)
	$($(PKG)_EXTRACT_CMDS)
	$(Q)chmod -R +rw $(@D)
	$(call pkg-run-hooks,$(PKG)_POST_EXTRACT_HOOKS)
	$(Q)touch $@

# Rsync the package's override source directory (<PKG>_OVERRIDE_SRCDIR),
# version control directories left out, as Buildroot does.
$(BUILD_DIR)/%/.stamp_rsynced:
	@$(call MESSAGE,"Syncing from source dir $($(PKG)_OVERRIDE_SRCDIR)")
	@mkdir -p $(@D)
	@test -d $($(PKG)_OVERRIDE_SRCDIR) || (echo "ERROR: $($(PKG)_OVERRIDE_SRCDIR) does not exist" ; exit 1)
	rsync -au --chmod=u=rwX,go=rX --exclude .svn --exclude .git --exclude .hg --exclude .bzr \
		--exclude CVS $(call qstrip,$($(PKG)_OVERRIDE_SRCDIR))/ $(@D)
	$(Q)touch $@

# Patch: the _PATCH downloads, then the package's directory and each
# BR2_GLOBAL_PATCH_DIR entry (<dir>/<pkg>/<version>/ if it exists, else
# <dir>/<pkg>/): their "series" file, else *.patch in byte order.
$(BUILD_DIR)/%/.stamp_patched:
	@$(call MESSAGE,"Patching")
	$(call pkg-run-hooks,$(PKG)_PRE_PATCH_HOOKS)
	$(foreach p,$($(PKG)_PATCH),$(Q)$(APPLY_PATCHES) $(@D) $($(PKG)_DL_DIR) $(notdir $(p))$(sep))
	$(foreach dir,$(call pkg-patch-dirs,$(PKG)),$(Q)$(APPLY_PATCHES) $(@D) $(dir) \*.patch$(sep))
	$(call pkg-run-hooks,$(PKG)_POST_PATCH_HOOKS)
	$(Q)touch $@

# What a package installed, as Buildroot records it for its size statistics
# (graph-size) and the packages-file-list*.txt of target-finalize: before
# the configure step and in .stamp_installed, every file and link of the
# target, staging, images and host directories (the staging directory left
# out of the host one) with its time, inode, mode, type and size; the lines
# of the second list missing from the first, the fields replaced by the
# package name, are <pkg dir>/.files-list<suffix>.txt: "<pkg>,./<path>"
# (suffixes: none for the target, -staging, -images, -host). A file another
# package changed counts for both; <pkg>-rebuild and -reinstall find no
# ".before" list (comm complains) and leave an empty one, as in Buildroot.
# $(1): directory, $(2): suffix
define pkg_size_before
	cd $(1); \
	LC_ALL=C find . -not -path './$(STAGING_SUBDIR)/*' \( -type f -o -type l \) -printf '%T@:%i:%#m:%y:%s,%p\n' \
		| LC_ALL=C sort > $($(PKG)_DIR)/.files-list$(2).before
endef

define pkg_size_after
	cd $(1); \
	LC_ALL=C find . -not -path './$(STAGING_SUBDIR)/*' \( -type f -o -type l \) -printf '%T@:%i:%#m:%y:%s,%p\n' \
		| LC_ALL=C sort > $($(PKG)_DIR)/.files-list$(2).after
	LC_ALL=C comm -13 $($(PKG)_DIR)/.files-list$(2).before $($(PKG)_DIR)/.files-list$(2).after \
		| sed -r -e 's/^[^,]+/$($(PKG)_NAME)/' > $($(PKG)_DIR)/.files-list$(2).txt
	rm -f $($(PKG)_DIR)/.files-list$(2).before
	rm -f $($(PKG)_DIR)/.files-list$(2).after
endef

# Configure
$(BUILD_DIR)/%/.stamp_configured:
	@$(call MESSAGE,"Configuring")
	$(Q)mkdir -p $(HOST_DIR) $(BASE_TARGET_DIR) $(TARGET_DIR) $(STAGING_DIR) $(BINARIES_DIR)
	@$(call pkg_size_before,$(TARGET_DIR))
	@$(call pkg_size_before,$(STAGING_DIR),-staging)
	@$(call pkg_size_before,$(BINARIES_DIR),-images)
	@$(call pkg_size_before,$(HOST_DIR),-host)
	$(call pkg-run-hooks,$(PKG)_PRE_CONFIGURE_HOOKS)
	$($(PKG)_CONFIGURE_CMDS)
	$(call pkg-run-hooks,$(PKG)_POST_CONFIGURE_HOOKS)
	$(Q)touch $@

# Build
$(BUILD_DIR)/%/.stamp_built:
	@$(call MESSAGE,"Building")
	$(call pkg-run-hooks,$(PKG)_PRE_BUILD_HOOKS)
	$(call testtree-slow-step,$($(PKG)_NAME))
	$(call testtree-fail-step,$($(PKG)_NAME))
	+$($(PKG)_BUILD_CMDS)
	$(call pkg-run-hooks,$(PKG)_POST_BUILD_HOOKS)
	$(Q)touch $@

# Install to the host directory
$(BUILD_DIR)/%/.stamp_host_installed:
	@$(call MESSAGE,"Installing to host directory")
	$(call pkg-run-hooks,$(PKG)_PRE_INSTALL_HOOKS)
	+$($(PKG)_INSTALL_CMDS)
	$(call pkg-run-hooks,$(PKG)_POST_INSTALL_HOOKS)
	$(Q)touch $@

# Install to the staging directory
$(BUILD_DIR)/%/.stamp_staging_installed:
	@$(call MESSAGE,"Installing to staging directory")
	$(call pkg-run-hooks,$(PKG)_PRE_INSTALL_STAGING_HOOKS)
	+$($(PKG)_INSTALL_STAGING_CMDS)
	$(call pkg-run-hooks,$(PKG)_POST_INSTALL_STAGING_HOOKS)
	@$(call MESSAGE,"Fixing libtool files")
	$(Q)touch $@

# Install to the images directory
$(BUILD_DIR)/%/.stamp_images_installed:
	@$(call MESSAGE,"Installing to images directory")
	$(call pkg-run-hooks,$(PKG)_PRE_INSTALL_IMAGES_HOOKS)
	+$($(PKG)_INSTALL_IMAGES_CMDS)
	$(call pkg-run-hooks,$(PKG)_POST_INSTALL_IMAGES_HOOKS)
	$(Q)touch $@

# Install to the target directory
$(BUILD_DIR)/%/.stamp_target_installed:
	@$(call MESSAGE,"Installing to target")
	$(call pkg-run-hooks,$(PKG)_PRE_INSTALL_TARGET_HOOKS)
	+$($(PKG)_INSTALL_TARGET_CMDS)
	$(if $(BR2_INIT_SYSTEMD),$($(PKG)_INSTALL_INIT_SYSTEMD))
	$(if $(BR2_INIT_SYSV)$(BR2_INIT_BUSYBOX),$($(PKG)_INSTALL_INIT_SYSV))
	$(call pkg-run-hooks,$(PKG)_POST_INSTALL_TARGET_HOOKS)
	$(Q)touch $@

# All installation steps done: the lists of installed files.
$(BUILD_DIR)/%/.stamp_installed:
	@$(call pkg_size_after,$(TARGET_DIR))
	@$(call pkg_size_after,$(STAGING_DIR),-staging)
	@$(call pkg_size_after,$(BINARIES_DIR),-images)
	@$(call pkg_size_after,$(HOST_DIR),-host)
	$(Q)touch $@
