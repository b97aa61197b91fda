################################################################################
#
# Package infrastructure of the skiffbuild Buildroot-compatible test tree.
#
# Each package/<pkg>/<pkg>.mk (also linux/, boot/*/, toolchain/**/ and the
# package/*/*.mk of BR2_EXTERNAL trees) sets some of
#
#   <PKG>_VERSION           version; also the download version (may hold '/')
#   <PKG>_SOURCE            main archive, default <pkg>-<version><suffix>.tar.gz
#   <PKG>_SITE              where it comes from (URL without the file name)
#   <PKG>_SITE_METHOD       download backend, default the URL scheme
#   <PKG>_DL_SUBDIR         directory below the download dir, default <pkg>
#   <PKG>_PATCH             extra files from the site (or URLs), applied as patches
#   <PKG>_EXTRA_DOWNLOADS   extra files from the site, or full URLs
#   <PKG>_DOWNLOAD_POST_PROCESS   e.g. "go": adds -go2 to the default name
#   <PKG>_LICENSE, _LICENSE_FILES, _REDISTRIBUTE (legal-info)
#   <PKG>_ACTUAL_SOURCE_TARBALL, _ACTUAL_SOURCE_SITE  the sources legal-info
#                           saves when _SOURCE is a binary (default: _SOURCE, _SITE)
#   <PKG>_DEPENDENCIES, <PKG>_PROVIDES
#   <PKG>_INSTALL_STAGING, _INSTALL_TARGET, _INSTALL_IMAGES (target packages)
#   <PKG>_ADD_TOOLCHAIN_DEPENDENCY, _ADD_SKELETON_DEPENDENCY (YES/NO)
#
# and ends with one or more of
#
#   $(eval $(generic-package))          target package <pkg>
#   $(eval $(host-generic-package))     host package host-<pkg>
#   $(eval $(virtual-package))          virtual package (its provider does the work)
#   $(eval $(host-virtual-package))     virtual host package
#
# As in Buildroot, a host package takes the version, source, site, site
# method, download subdirectory, patches, licence and post-processing of the
# target package of the same .mk file unless it sets its own (not the extra
# downloads, not the dependencies). Every package gets the targets
# <pkg>-source, <pkg>-all-source, <pkg>-legal-info, <pkg>-external-deps,
# <pkg>-show-depends, <pkg>-show-info and friends; it is "enabled" (in
# PACKAGES) when its Kconfig symbol is y: BR2_PACKAGE_<PKG>,
# BR2_PACKAGE_HOST_<PKG>, BR2_PACKAGE_HAS_<PKG> for virtual packages,
# BR2_LINUX_KERNEL for linux, BR2_TARGET_<PKG> under boot/ and BR2_<PKG>
# under toolchain/.
#
################################################################################

PACKAGES :=
PACKAGES_ALL :=

# Directory (no trailing slash) and name of the .mk file being parsed: the
# directory is relative to the top of the tree for in-tree packages and
# absolute for BR2_EXTERNAL ones.
pkgdir = $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
pkgname = $(lastword $(subst /, ,$(pkgdir)))

# Directory names (and so file names) cannot hold '/', ':' or spaces.
pkg-safe-version = $(subst $(space),_,$(subst :,_,$(subst /,_,$(strip $(1)))))

# Suffix of archives that the download backend generates, by site method or
# post-processing: the format versions of Buildroot 2026.02.
PKG_ARCHIVE_FORMAT_git = -git4
PKG_ARCHIVE_FORMAT_svn = -svn5
PKG_ARCHIVE_FORMAT_go = -go2
PKG_ARCHIVE_FORMAT_cargo = -cargo4

# $(call pkg-default-source,PREFIX)
pkg-default-source = $($(1)_BASENAME_RAW)$(PKG_ARCHIVE_FORMAT_$($(1)_SITE_METHOD))$(PKG_ARCHIVE_FORMAT_$($(1)_DOWNLOAD_POST_PROCESS)).tar.gz

# $(call pkg-url-scheme,URL) -> https
pkg-url-scheme = $(firstword $(subst ://, ,$(call qstrip,$(1))))

# Helpers for site URLs, as in Buildroot (the defconfigs use them). The test
# tree points them at the never-resolving .invalid domain: nothing here may
# fetch real sources (see README.md).
github = https://sources.skiffbuild.invalid/github/$(1)/$(2)/archive/$(3)
gitlab = https://sources.skiffbuild.invalid/gitlab/$(1)/$(2)/-/archive/$(3)

# The .hash files of a package: for its own directory and for each
# BR2_GLOBAL_PATCH_DIR entry, <dir>/<version>/<name>.hash when that exists,
# else <dir>/<name>.hash (which may not exist).
# $(call pkg-hash-dirs,PREFIX)
pkg-hash-dirs = $($(1)_PKGDIR) \
	$(addsuffix /$($(1)_RAWNAME),$(call qstrip,$(BR2_GLOBAL_PATCH_DIR)))
pkg-hash-files = $(strip $(foreach d,$(call pkg-hash-dirs,$(1)),\
	$(or $(if $($(1)_VERSION),$(wildcard $(d)/$($(1)_VERSION)/$($(1)_RAWNAME).hash)),\
		$(d)/$($(1)_RAWNAME).hash)))

# Patches applied to a package: *.patch of each of those directories (its
# <version>/ subdirectory when there is one), then the _PATCH downloads.
pkg-patch-dirs = $(foreach d,$(call pkg-hash-dirs,$(1)),\
	$(wildcard $(or $(if $($(1)_VERSION),$(wildcard $(d)/$($(1)_VERSION))),$(d))))
pkg-patch-urls = $(foreach p,$($(1)_PATCH),\
	$(if $(findstring ://,$(p)),$(p),$($(1)_SITE_METHOD)+$($(1)_SITE)/$(p)))
pkg-patches = $(foreach d,$(call pkg-patch-dirs,$(1)),$(sort $(wildcard $(d)/*.patch))) \
	$(call pkg-patch-urls,$(1))

################################################################################
# inner-generic-package -- define one package
#  $(1): package name (host-kmod)
#  $(2): variable prefix (HOST_KMOD)
#  $(3): prefix of the target package of the same .mk file (KMOD)
#  $(4): target or host
################################################################################

define inner-generic-package

ifneq ($(filter $(1),$(PACKAGES_ALL)),)
$$(error Package '$(1)' defined a second time in '$(pkgdir)'; \
	previous definition was in '$$($(2)_PKGDIR)')
endif
PACKAGES_ALL += $(1)

$(2)_NAME := $(1)
$(2)_RAWNAME := $(patsubst host-%,%,$(1))
$(2)_TYPE := $(4)
$(2)_PKGDIR := $(pkgdir)

# The download version keeps what the .mk file says; _VERSION is made safe
# for file names.
ifndef $(2)_VERSION
 ifdef $(3)_DL_VERSION
  $(2)_DL_VERSION := $$($(3)_DL_VERSION)
 else ifdef $(3)_VERSION
  $(2)_DL_VERSION := $$($(3)_VERSION)
 endif
else
 $(2)_DL_VERSION := $$(strip $$($(2)_VERSION))
endif
$(2)_VERSION := $$(call pkg-safe-version,$$($(2)_DL_VERSION))

# <PKG>_OVERRIDE_SRCDIR (set in BR2_PACKAGE_OVERRIDE_FILE, usually local.mk):
# the package is built from that directory, rsynced, never downloaded, never
# patched; its version becomes "custom", so show-info lists a <name>-custom
# archive that nothing will fetch, as Buildroot's does. A host package
# follows its target package's override.
ifdef $(3)_OVERRIDE_SRCDIR
$(2)_OVERRIDE_SRCDIR ?= $$($(3)_OVERRIDE_SRCDIR)
endif
ifneq ($$($(2)_OVERRIDE_SRCDIR),)
$(2)_VERSION := custom
endif

$(2)_BASENAME := $$(if $$($(2)_VERSION),$(1)-$$($(2)_VERSION),$(1))
$(2)_BASENAME_RAW := $$(if $$($(2)_VERSION),$$($(2)_RAWNAME)-$$($(2)_VERSION),$$($(2)_RAWNAME))
$(2)_DIR = $$(BUILD_DIR)/$$($(2)_BASENAME)
$(2)_SRCDIR = $$($(2)_DIR)/$$($(2)_SUBDIR)
$(2)_BUILDDIR ?= $$($(2)_SRCDIR)

# Variables a host package takes from the target package of its .mk file.
$$(foreach v,SITE SITE_METHOD SOURCE DL_SUBDIR PATCH DL_OPTS DOWNLOAD_POST_PROCESS \
		LICENSE LICENSE_FILES REDISTRIBUTE SUBDIR,\
	$$(if $$(filter undefined,$$(origin $(2)_$$(v))),\
		$$(if $$(filter-out undefined,$$(origin $(3)_$$(v))),\
			$$(eval $(2)_$$(v) = $$$$($(3)_$$(v))))))

$(2)_DL_SUBDIR ?= $$($(2)_RAWNAME)
$(2)_DL_DIR = $$(DL_DIR)/$$($(2)_DL_SUBDIR)
$(2)_SITE_METHOD ?= $$(call pkg-url-scheme,$$($(2)_SITE))
# (A virtual package's empty _SOURCE counts as set.)
ifeq ($$(origin $(2)_SOURCE),undefined)
 ifneq ($$($(2)_VERSION),)
  $(2)_SOURCE = $$(call pkg-default-source,$(2))
 endif
endif
$(2)_LICENSE ?= unknown
$(2)_REDISTRIBUTE ?= YES
# When _SOURCE is not the source (a prebuilt binary, as go-bin's), the
# legal-info sources come from _ACTUAL_SOURCE_TARBALL and _ACTUAL_SOURCE_SITE.
$(2)_ACTUAL_SOURCE_TARBALL ?= $$($(2)_SOURCE)
$(2)_ACTUAL_SOURCE_SITE ?= $$(call qstrip,$$($(2)_SITE))
$(2)_REDIST_SOURCES_DIR = $$(REDIST_SOURCES_DIR_$$(call UPPERCASE,$(4)))/$$($(2)_BASENAME_RAW)
$(2)_HASH_FILES = $$(call pkg-hash-files,$(2))

# Every file to download, as <method>+<site>/<file> (or a full URL for
# _PATCH and _EXTRA_DOWNLOADS entries that are URLs).
$(2)_MAIN_DOWNLOAD = $$(if $$($(2)_SOURCE),$$($(2)_SITE_METHOD)+$$($(2)_SITE)/$$($(2)_SOURCE))
$(2)_ADDITIONAL_DOWNLOADS = $$(foreach p,$$($(2)_PATCH) $$($(2)_EXTRA_DOWNLOADS),\
	$$(if $$(findstring ://,$$(p)),$$(p),$$($(2)_SITE_METHOD)+$$($(2)_SITE)/$$(p)))
$(2)_ALL_DOWNLOADS = $$($(2)_MAIN_DOWNLOAD) $$($(2)_ADDITIONAL_DOWNLOADS)

# As in Buildroot, archives made from bzr, cvs and hg checkouts are not
# reproducible, so they are not hash-checked.
ifneq ($$(filter bzr cvs hg,$$($(2)_SITE_METHOD)),)
BR_NO_CHECK_HASH_FOR += $$($(2)_SOURCE)
endif

ifeq ($(4),target)
$(2)_INSTALL_TARGET ?= YES
$(2)_INSTALL_STAGING ?= NO
$(2)_INSTALL_IMAGES ?= NO
$(2)_ADD_SKELETON_DEPENDENCY ?= YES
$(2)_ADD_TOOLCHAIN_DEPENDENCY ?= YES
ifeq ($$($(2)_ADD_SKELETON_DEPENDENCY),YES)
$(2)_DEPENDENCIES += skeleton
endif
ifeq ($$($(2)_ADD_TOOLCHAIN_DEPENDENCY),YES)
$(2)_DEPENDENCIES += toolchain
endif
endif
ifneq ($(1),host-skeleton)
$(2)_DEPENDENCIES += host-skeleton
endif
ifeq ($$(BR2_REPRODUCIBLE),y)
ifeq ($$(filter host-skeleton host-fakedate,$(1)),)
$(2)_DEPENDENCIES += host-fakedate
endif
endif
$(2)_FINAL_DEPENDENCIES = $$(sort $$($(2)_DEPENDENCIES))
$(2)_FINAL_ALL_DEPENDENCIES = $$(sort $$($(2)_DEPENDENCIES) $$($(2)_DOWNLOAD_DEPENDENCIES))
# Everything it depends on, directly or not (computed once).
$(2)_FINAL_RECURSIVE_DEPENDENCIES = $$(sort \
	$$(if $$(filter undefined,$$(origin $(2)_FINAL_RECURSIVE_DEPENDENCIES__X)), \
		$$(eval $(2)_FINAL_RECURSIVE_DEPENDENCIES__X := \
			$$(foreach p,$$($(2)_FINAL_ALL_DEPENDENCIES),\
				$$(p) $$($$(call UPPERCASE,$$(p))_FINAL_RECURSIVE_DEPENDENCIES)))) \
	$$($(2)_FINAL_RECURSIVE_DEPENDENCIES__X))

# Kconfig symbol that enables the package.
ifeq ($(1),linux)
$(2)_KCONFIG_VAR := BR2_LINUX_KERNEL
else ifneq ($$(filter boot/% $$(addsuffix /boot/%,$$(BR2_EXTERNAL_DIRS)),$(pkgdir)),)
$(2)_KCONFIG_VAR := BR2_TARGET_$(2)
else ifneq ($$(filter toolchain/% $$(addsuffix /toolchain/%,$$(BR2_EXTERNAL_DIRS)),$(pkgdir)),)
$(2)_KCONFIG_VAR := BR2_$(2)
else ifeq ($$($(2)_IS_VIRTUAL),YES)
$(2)_KCONFIG_VAR := BR2_PACKAGE_HAS_$(2)
else
$(2)_KCONFIG_VAR := BR2_PACKAGE_$(2)
endif

ifeq ($$($$($(2)_KCONFIG_VAR)),y)
$(2)_ENABLED := y
PACKAGES += $(1)
endif

# Hooks and tables the rest of the build collects from enabled packages.
ifeq ($$($(2)_ENABLED),y)
TARGET_FINALIZE_HOOKS += $$($(2)_TARGET_FINALIZE_HOOKS)
ROOTFS_PRE_CMD_HOOKS += $$($(2)_ROOTFS_PRE_CMD_HOOKS)
ifneq ($$(strip $$($(2)_USERS)),)
PACKAGES_USERS += $$($(2)_USERS)$$(sep)
endif
ifneq ($$(strip $$($(2)_PERMISSIONS)),)
PACKAGES_PERMISSIONS_TABLE += $$($(2)_PERMISSIONS)$$(sep)
endif
endif

# Default extraction: the main archive, first directory level stripped.
$(2)_STRIP_COMPONENTS ?= 1
ifndef $(2)_EXTRACT_CMDS
$(2)_EXTRACT_CMDS = $$(if $$($(2)_SOURCE),\
	$$(call pkg-inflate,$$($(2)_SOURCE)) $$($(2)_DL_DIR)/$$($(2)_SOURCE) | \
	tar --strip-components=$$($(2)_STRIP_COMPONENTS) -C $$($(2)_DIR) \
		$$(foreach x,$$($(2)_EXCLUDES),--exclude='$$(x)' ) $$(TAR_OPTIONS) -)
endif

# Steps, each ending with Buildroot's stamp file in $(2)_DIR (see the pattern
# rules below): downloaded, extracted, patched, configured, built, then
# installed to host / staging / images / target, and installed.
$(2)_TARGET_SOURCE = $$($(2)_DIR)/.stamp_downloaded
$(2)_TARGET_EXTRACT = $$($(2)_DIR)/.stamp_extracted
$(2)_TARGET_PATCH = $$($(2)_DIR)/.stamp_patched
$(2)_TARGET_CONFIGURE = $$($(2)_DIR)/.stamp_configured
$(2)_TARGET_BUILD = $$($(2)_DIR)/.stamp_built
$(2)_TARGET_INSTALL_HOST = $$($(2)_DIR)/.stamp_host_installed
$(2)_TARGET_INSTALL_STAGING = $$($(2)_DIR)/.stamp_staging_installed
$(2)_TARGET_INSTALL_IMAGES = $$($(2)_DIR)/.stamp_images_installed
$(2)_TARGET_INSTALL_TARGET = $$($(2)_DIR)/.stamp_target_installed
$(2)_TARGET_INSTALL = $$($(2)_DIR)/.stamp_installed
$(2)_TARGET_ACTUAL_SOURCE = $$($(2)_DIR)/.stamp_actual_downloaded

$(1): $(1)-install
$(1)-install: $$($(2)_TARGET_INSTALL)
$$($(2)_TARGET_INSTALL): $$($(2)_TARGET_BUILD)

ifeq ($(4),host)
$$($(2)_TARGET_INSTALL): $$($(2)_TARGET_INSTALL_HOST)
else
ifeq ($$($(2)_INSTALL_TARGET),YES)
$$($(2)_TARGET_INSTALL): $$($(2)_TARGET_INSTALL_TARGET)
endif
ifeq ($$($(2)_INSTALL_STAGING),YES)
$$($(2)_TARGET_INSTALL): $$($(2)_TARGET_INSTALL_STAGING)
endif
ifeq ($$($(2)_INSTALL_IMAGES),YES)
$$($(2)_TARGET_INSTALL): $$($(2)_TARGET_INSTALL_IMAGES)
endif
endif

ifeq ($$($(2)_INSTALL_TARGET),YES)
$(1)-install-target: $$($(2)_TARGET_INSTALL_TARGET)
$$($(2)_TARGET_INSTALL_TARGET): $$($(2)_TARGET_BUILD)
else
$(1)-install-target:
endif

ifeq ($$($(2)_INSTALL_STAGING),YES)
$(1)-install-staging: $$($(2)_TARGET_INSTALL_STAGING)
$$($(2)_TARGET_INSTALL_STAGING): $$($(2)_TARGET_BUILD)
# What is installed to staging may be used by the target installation.
$$($(2)_TARGET_INSTALL_TARGET): $$($(2)_TARGET_INSTALL_STAGING)
else
$(1)-install-staging:
endif

ifeq ($$($(2)_INSTALL_IMAGES),YES)
$(1)-install-images: $$($(2)_TARGET_INSTALL_IMAGES)
$$($(2)_TARGET_INSTALL_IMAGES): $$($(2)_TARGET_BUILD)
else
$(1)-install-images:
endif

$(1)-install-host: $$($(2)_TARGET_INSTALL_HOST)
$$($(2)_TARGET_INSTALL_HOST): $$($(2)_TARGET_BUILD)

$(1)-build: $$($(2)_TARGET_BUILD)
$$($(2)_TARGET_BUILD): $$($(2)_TARGET_CONFIGURE)

# The dependencies are phony targets, always "newer" than any stamp: order-only,
# so that a built dependency does not rebuild this package.
$(1)-configure: $$($(2)_TARGET_CONFIGURE)
$$($(2)_TARGET_CONFIGURE): | $$($(2)_FINAL_DEPENDENCIES)

ifeq ($$($(2)_OVERRIDE_SRCDIR),)
$$($(2)_TARGET_CONFIGURE): $$($(2)_TARGET_PATCH)

$(1)-patch: $$($(2)_TARGET_PATCH)
$$($(2)_TARGET_PATCH): $$($(2)_TARGET_EXTRACT)

$(1)-extract: $$($(2)_TARGET_EXTRACT)
$$($(2)_TARGET_EXTRACT): $$($(2)_TARGET_SOURCE)
$$($(2)_TARGET_EXTRACT): | prepare-build
else
# Order-only, as in Buildroot: <pkg>-clean-for-rebuild removes the rsync stamp
# without making configure run again, and a missing stamp is still remade.
$(2)_TARGET_RSYNC = $$($(2)_DIR)/.stamp_rsynced
$$($(2)_TARGET_CONFIGURE): | $$($(2)_TARGET_RSYNC)
$$($(2)_TARGET_RSYNC): | prepare-build
$$($(2)_TARGET_RSYNC): PKG = $(2)
$(1)-rsync: $$($(2)_TARGET_RSYNC)
$(1)-patch $(1)-extract: $(1)-rsync
.PHONY: $(1)-rsync
endif

$(1)-depends: $$($(2)_FINAL_ALL_DEPENDENCIES)

ifeq ($$($(2)_OVERRIDE_SRCDIR),)
$(1)-source: $$($(2)_TARGET_SOURCE)
$(1)-external-deps:
	@$$(foreach f,$$($(2)_SOURCE) $$($(2)_PATCH) $$($(2)_EXTRA_DOWNLOADS),echo $$(notdir $$(f));)
else
$(1)-source:
$(1)-external-deps:
	@echo "file://$$($(2)_OVERRIDE_SRCDIR)"
endif
$(1)-all-source: $(1)-source $(1)-legal-source \
	$$(patsubst %,%-all-source,$$($(2)_FINAL_ALL_DEPENDENCIES))
ifeq ($$($(2)_OVERRIDE_SRCDIR),)
$(1)-legal-source: $(1)-source
# The actual source, when it is another file than the main archive.
ifneq ($$($(2)_ACTUAL_SOURCE_TARBALL),)
ifneq ($$($(2)_ACTUAL_SOURCE_TARBALL),$$($(2)_SOURCE))
$(1)-legal-source: $$($(2)_TARGET_ACTUAL_SOURCE)
endif
endif
else
$(1)-legal-source:
endif
$(1)-all-external-deps: $(1)-external-deps \
	$$(patsubst %,%-all-external-deps,$$($(2)_FINAL_ALL_DEPENDENCIES))

$(1)-show-version:
	@echo $$($(2)_VERSION)
$(1)-show-depends:
	@echo $$($(2)_FINAL_ALL_DEPENDENCIES)
$(1)-show-build-order: $$(patsubst %,%-show-build-order,$$($(2)_FINAL_ALL_DEPENDENCIES))
	@:
	$$(info $(1))

$(1)-dirclean:
	rm -rf $$($(2)_DIR)

$(1)-clean-for-reinstall:
	$$(if $$($(2)_OVERRIDE_SRCDIR),rm -f $$($(2)_TARGET_RSYNC))
	rm -f $$($(2)_TARGET_INSTALL)
	rm -f $$($(2)_TARGET_INSTALL_STAGING)
	rm -f $$($(2)_TARGET_INSTALL_TARGET)
	rm -f $$($(2)_TARGET_INSTALL_IMAGES)
	rm -f $$($(2)_TARGET_INSTALL_HOST)

$(1)-reinstall: $(1)-clean-for-reinstall .WAIT $(1)

$(1)-clean-for-rebuild: $(1)-clean-for-reinstall
	rm -f $$($(2)_TARGET_BUILD)

$(1)-rebuild: $(1)-clean-for-rebuild .WAIT $(1)

$(1)-clean-for-reconfigure: $(1)-clean-for-rebuild
	rm -f $$($(2)_TARGET_CONFIGURE)

$(1)-reconfigure: $(1)-clean-for-reconfigure .WAIT $(1)

################################################################################
# legal-info (see the Makefile's legal-info): for a package with a source
# archive, its license files into licenses/ (host-licenses/ for host
# packages) as <name>-<version>/<path in the sources>, checked against the
# package's .hash files when they have a line for them; unless
# _REDISTRIBUTE = NO, its sources into sources/<name>-<version>/ (host-sources/):
# the _ACTUAL_SOURCE_TARBALL and _EXTRA_DOWNLOADS (hard links into the
# download directory when possible), the patches applied, in order, and
# their "series" file; an override-srcdir package's sources as
# <name>-custom.tar.gz, made from a copy of the directory; then its
# manifest line. Packages without a source archive (virtual, in-tree) are
# skipped, as in Buildroot.
################################################################################

ifneq ($$($(2)_LICENSE_FILES),)
$(2)_MANIFEST_LICENSE_FILES = $$($(2)_LICENSE_FILES)
endif

# The license files are in the extracted, patched sources.
$(1)-legal-info: $(1)-patch
$(1)-legal-info: $(1)-legal-source

ifeq ($$($(2)_REDISTRIBUTE),YES)
ifeq ($$($(2)_OVERRIDE_SRCDIR),)
$(1)-legal-info: $(1)-source $$(REDIST_SOURCES_DIR_$$(call UPPERCASE,$(4)))
endif
endif

$(1)-legal-info: PKG = $(2)
$(1)-legal-info:
	@$$(call MESSAGE,"Collecting legal info")
	$$(call pkg-run-hooks,$(2)_PRE_LEGAL_INFO_HOOKS)
ifneq ($$(call qstrip,$$($(2)_SOURCE)),)
ifeq ($$(call qstrip,$$($(2)_LICENSE_FILES)),)
	$$(Q)$$(call legal-warning-pkg,$$($(2)_BASENAME_RAW),cannot save license ($(2)_LICENSE_FILES not defined))
else
	$$(Q)$$(foreach F,$$($(2)_LICENSE_FILES),$$(call legal-license-file,$$(call UPPERCASE,$(4)),$$($(2)_RAWNAME),$$($(2)_BASENAME_RAW),$$(F),$$($(2)_DIR)/$$(F),$$($(2)_HASH_FILES))$$(sep))
endif
ifeq ($$($(2)_REDISTRIBUTE),YES)
ifneq ($$($(2)_OVERRIDE_SRCDIR),)
	@echo "Package is of type local or override, archive sources"
	$$(Q)rm -rf $$($(2)_BUILDDIR)/.legal-info-rsync
	$$(Q)mkdir -p $$($(2)_BUILDDIR)/.legal-info-rsync
	$$(Q)rsync -au --chmod=u=rwX,go=rX $$(RSYNC_VCS_EXCLUSIONS) \
		$$(call qstrip,$$($(2)_OVERRIDE_SRCDIR))/ $$($(2)_BUILDDIR)/.legal-info-rsync/
	$$(Q)mkdir -p $$($(2)_REDIST_SOURCES_DIR)
	$$(Q). $$(TOPDIR)/support/download/helpers; cd $$($(2)_BUILDDIR); mk_tar_gz \
		$$($(2)_BUILDDIR)/.legal-info-rsync/ $$($(2)_BASENAME_RAW) @0 \
		$$($(2)_REDIST_SOURCES_DIR)/$$($(2)_BASENAME_RAW).tar.gz
	$$(Q)rm -rf $$($(2)_BUILDDIR)/.legal-info-rsync
else
	$$(foreach e,$$($(2)_ACTUAL_SOURCE_TARBALL) $$(notdir $$($(2)_EXTRA_DOWNLOADS)),\
		$$(Q)$$(TOPDIR)/support/scripts/hardlink-or-copy \
			$$($(2)_DL_DIR)/$$(e) $$($(2)_REDIST_SOURCES_DIR)$$(sep))
	$$(Q)while read f; do \
		$$(TOPDIR)/support/scripts/hardlink-or-copy $$$$f $$($(2)_REDIST_SOURCES_DIR) || exit 1; \
		printf "%s\n" "$$$${f##*/}" >> $$($(2)_REDIST_SOURCES_DIR)/series || exit 1; \
	done < $$($(2)_DIR)/.applied_patches_list
endif
endif
	@$$(call legal-manifest,$$(call UPPERCASE,$(4)),$$($(2)_RAWNAME),$$($(2)_DL_VERSION),$$(subst $$(space)$$(comma),$$(comma),$$($(2)_LICENSE)),$$($(2)_MANIFEST_LICENSE_FILES),$$($(2)_ACTUAL_SOURCE_TARBALL),$$($(2)_ACTUAL_SOURCE_SITE),$$(call legal-deps,$(1)))
endif
	$$(call pkg-run-hooks,$(2)_POST_LEGAL_INFO_HOOKS)

$(1)-all-legal-info: $(1)-legal-info \
	$$(patsubst %,%-all-legal-info,$$($(2)_FINAL_ALL_DEPENDENCIES))

$$($(2)_TARGET_ACTUAL_SOURCE): PKG = $(2)

# The package each step's recipe works on.
$$($(2)_TARGET_SOURCE) $$($(2)_TARGET_EXTRACT) $$($(2)_TARGET_PATCH) \
$$($(2)_TARGET_CONFIGURE) $$($(2)_TARGET_BUILD) $$($(2)_TARGET_INSTALL_HOST) \
$$($(2)_TARGET_INSTALL_STAGING) $$($(2)_TARGET_INSTALL_IMAGES) \
$$($(2)_TARGET_INSTALL_TARGET) $$($(2)_TARGET_INSTALL): PKG = $(2)

.PHONY: $(1) $(1)-install $(1)-install-target $(1)-install-staging $(1)-install-images \
	$(1)-install-host $(1)-build $(1)-configure $(1)-patch $(1)-extract $(1)-depends \
	$(1)-source $(1)-all-source $(1)-legal-source $(1)-legal-info $(1)-all-legal-info \
	$(1)-external-deps \
	$(1)-all-external-deps $(1)-show-version $(1)-show-depends $(1)-show-build-order \
	$(1)-dirclean $(1)-clean-for-reinstall $(1)-reinstall $(1)-clean-for-rebuild \
	$(1)-rebuild $(1)-clean-for-reconfigure $(1)-reconfigure

endef # inner-generic-package

# inner-virtual-package: a package without sources whose dependency is the
# provider chosen in Kconfig (BR2_PACKAGE_PROVIDES_<PKG>); a virtual host
# package falls back to host-<provider of the target package>.
define inner-virtual-package
$(2)_VERSION :=
$(2)_SOURCE :=
$(2)_IS_VIRTUAL := YES
ifeq ($(4),target)
$(2)_DEPENDENCIES += $$(call qstrip,$$(BR2_PACKAGE_PROVIDES_$(2)))
else ifneq ($$(call qstrip,$$(BR2_PACKAGE_PROVIDES_$(2))),)
$(2)_DEPENDENCIES += $$(call qstrip,$$(BR2_PACKAGE_PROVIDES_$(2)))
else
$(2)_DEPENDENCIES += $$(addprefix host-,$$(call qstrip,$$(BR2_PACKAGE_PROVIDES_$(3))))
endif
$(call inner-generic-package,$(1),$(2),$(3),$(4))
endef

# (Arguments of $(call) keep leading blanks: no line continuations here.)
pkg-prefix = $(call UPPERCASE,$(pkgname))
generic-package = $(call inner-generic-package,$(pkgname),$(pkg-prefix),$(pkg-prefix),target)
host-generic-package = $(call inner-generic-package,host-$(pkgname),HOST_$(pkg-prefix),$(pkg-prefix),host)
virtual-package = $(call inner-virtual-package,$(pkgname),$(pkg-prefix),$(pkg-prefix),target)
host-virtual-package = $(call inner-virtual-package,host-$(pkgname),HOST_$(pkg-prefix),$(pkg-prefix),host)

include package/pkg-standin.mk
include package/pkg-steps.mk
include package/pkg-download.mk
