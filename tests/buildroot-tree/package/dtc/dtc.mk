################################################################################
#
# dtc
#
################################################################################

DTC_VERSION = 1.7.2
DTC_SITE = https://sources.skiffbuild.invalid/dtc
DTC_LICENSE = GPL-2.0+ or BSD-2-Clause (library)
DTC_LICENSE_FILES = README.license GPL BSD-2-Clause

# The build machine's dtc.
define HOST_DTC_INSTALL_CMDS
	$(call host-tool-wrappers,bin/dtc bin/fdtdump)
endef

$(eval $(host-generic-package))
