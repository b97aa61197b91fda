################################################################################
#
# What make knows about each package and filesystem, for show-info,
# show-info-all, <pkg>-show-info and external-deps.
#
# $(pkg-info-records) is a line-oriented text, one "<field><TAB><value>"
# per line (leading blanks to be ignored), that support/scripts/show-info
# turns into Buildroot's JSON:
#
#   packages <TAB> PACKAGES           rootfs_targets <TAB> TARGETS_ROOTFS
#   package <TAB> <name>  ... fields ...  end
#   rootfs <TAB> <name>   ... fields ...  end
#
# Paths are shown as Buildroot does: package directories and hash files
# relative to the top of the tree when inside it, build directories relative
# to the output directory.
#
################################################################################

# $(call pkg-info-package,PREFIX)
define pkg-info-package
package$(tab)$($(1)_NAME)
type$(tab)$($(1)_TYPE)
rawname$(tab)$($(1)_RAWNAME)
virtual$(tab)$(if $(filter YES,$($(1)_IS_VIRTUAL)),YES,NO)
enabled$(tab)$($(1)_ENABLED)
version$(tab)$($(1)_DL_VERSION)
license$(tab)$($(1)_LICENSE)
license_files$(tab)$(strip $($(1)_LICENSE_FILES))
redistribute$(tab)$(strip $($(1)_REDISTRIBUTE))
dl_dir$(tab)$(strip $($(1)_DL_SUBDIR))
$(foreach d,$(sort $($(1)_ALL_DOWNLOADS)),download$(tab)$(notdir $(d))$(tab)$(call pkg-download-uris,$(d),$(1))$(sep))
hashes$(tab)$(wildcard $($(1)_HASH_FILES))
override$(tab)$($(1)_OVERRIDE_SRCDIR)
patches$(tab)$(strip $(patsubst $(CONFIG_DIR)/%,%,$(call pkg-patches,$(1))))
provides$(tab)$(strip $($(1)_PROVIDES))
package_dir$(tab)$(patsubst $(CURDIR)/%,%,$($(1)_PKGDIR))
stamp_dir$(tab)$(patsubst $(CONFIG_DIR)/%,%,$($(1)_DIR))
build_dir$(tab)$(patsubst $(CONFIG_DIR)/%,%,$($(1)_BUILDDIR))
install$(tab)$(strip $($(1)_INSTALL_TARGET) $($(1)_INSTALL_STAGING) $($(1)_INSTALL_IMAGES))
dependencies$(tab)$($(1)_FINAL_ALL_DEPENDENCIES)
end

endef

# $(call pkg-info-rootfs,PREFIX)
define pkg-info-rootfs
rootfs$(tab)$($(1)_NAME)
image_name$(tab)$(strip $($(1)_IMAGE_NAME))
enabled$(tab)$($(1)_ENABLED)
dependencies$(tab)$(sort $($(1)_DEPENDENCIES))
end

endef

define pkg-info-records
packages$(tab)$(sort $(PACKAGES))
rootfs_targets$(tab)$(sort $(TARGETS_ROOTFS))
$(foreach p,$(PACKAGES_ALL),$(call pkg-info-package,$(call UPPERCASE,$(p))))
$(foreach r,ROOTFS_COMMON $(ROOTFS_ALL),$(call pkg-info-rootfs,$(r)))
endef

################################################################################
# legal-info helpers, with Buildroot's names and output formats.
################################################################################

# $(call legal-warning,TEXT), $(call legal-warning-pkg,PKG,TEXT): a line of
# the README's warnings section.
define legal-warning
	echo "WARNING: $(1)" >>$(LEGAL_WARNINGS)
endef

define legal-warning-pkg
	echo "WARNING: $(1): $(2)" >>$(LEGAL_WARNINGS)
endef

# $(call legal-warning-nosource,PKG,local|override) (Buildroot defines it and
# no longer uses it).
define legal-warning-nosource
	$(call legal-warning-pkg,$(1),sources not saved ($(2) packages not handled))
endef

# $(call legal-manifest,TARGET|HOST,PACKAGE,VERSION,LICENSE,LICENSE FILES,
# SOURCE ARCHIVE,SOURCE SITE,DEPENDENCIES WITH LICENSES): one line of
# manifest.csv or host-manifest.csv, every field in double quotes, no
# escaping.
define legal-manifest
	echo '"$(2)","$(3)","$(4)","$(5)","$(6)","$(7)","$(8)"' >>$(LEGAL_MANIFEST_CSV_$(1))
endef

# $(call legal-license-file,TARGET|HOST,PKG,PKG-VERSION,FILE,FULL PATH,HASH FILES):
# copy FILE (a path inside the sources) to licenses/PKG-VERSION/FILE; a hash
# line for FILE in the .hash files must match (no line: accepted).
define legal-license-file
	mkdir -p $(LICENSE_FILES_DIR_$(1))/$(3)/$(dir $(4)) && \
	{ \
		$(TOPDIR)/support/download/check-hash $(5) $(4) $(6); \
		case $${?} in (0|3) ;; (*) exit 1;; esac; \
	} && \
	cp $(5) $(LICENSE_FILES_DIR_$(1))/$(3)/$(4)
endef

non-virtual-deps = $(foreach p,$(1),$(if $($(call UPPERCASE,$(p))_IS_VIRTUAL),,$(p)))

# $(call legal-deps,PKG): "<dep> [<license>]" for each package PKG depends
# on, directly or not, virtual ones left out, and for a target package
# without the host packages.
legal-deps = \
	$(foreach p,\
		$(filter-out $(if $(1:host-%=),host-%),\
			$(call non-virtual-deps,\
				$($(call UPPERCASE,$(1))_FINAL_RECURSIVE_DEPENDENCIES))),$(p) [$($(call UPPERCASE,$(p))_LICENSE)])
