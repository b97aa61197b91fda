################################################################################
#
# Package registration for the skiffbuild Buildroot-compatible test tree.
#
# Each package/<pkg>/<pkg>.mk ends with one of
#   $(eval $(generic-package))        target package, BR2_PACKAGE_<PKG>
#   $(eval $(host-generic-package))   host package, BR2_PACKAGE_HOST_<PKG>
#   $(eval $(virtual-package))        virtual package (providers do the work)
# which records the package in PACKAGES_ALL and, when its Kconfig symbol is
# y, in PACKAGES. The package name comes from the directory of the .mk file,
# as in Buildroot. Later work hangs the download, hash check and build steps
# on these definitions (show-info, source, the default build).
#
################################################################################

PACKAGES :=
PACKAGES_ALL :=

# Directory and name of the .mk file being parsed.
pkgdir = $(dir $(lastword $(MAKEFILE_LIST)))
pkgname = $(lastword $(subst /, ,$(pkgdir)))

# $(1): package name (e.g. host-kmod), $(2): variable prefix (HOST_KMOD),
# $(3): Kconfig symbol, $(4): type (target|host), $(5): directory
define inner-package
PACKAGES_ALL += $(1)
$(2)_NAME := $(1)
$(2)_RAWNAME := $(patsubst host-%,%,$(1))
$(2)_TYPE := $(4)
$(2)_KCONFIG_VAR := $(3)
$(2)_PKGDIR := $(5)
$(2)_VIRTUAL := $(6)
ifeq ($$($$($(2)_KCONFIG_VAR)),y)
PACKAGES += $(1)
endif
endef

generic-package = $(call inner-package,$(pkgname),$(call UPPERCASE,$(pkgname)),\
	BR2_PACKAGE_$(call UPPERCASE,$(pkgname)),target,$(pkgdir),NO)
host-generic-package = $(call inner-package,host-$(pkgname),HOST_$(call UPPERCASE,$(pkgname)),\
	BR2_PACKAGE_HOST_$(call UPPERCASE,$(pkgname)),host,$(pkgdir),NO)
virtual-package = $(call inner-package,$(pkgname),$(call UPPERCASE,$(pkgname)),\
	BR2_PACKAGE_HAS_$(call UPPERCASE,$(pkgname)),target,$(pkgdir),YES)
