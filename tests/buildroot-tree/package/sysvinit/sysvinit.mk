################################################################################
#
# sysvinit
#
################################################################################

SYSVINIT_VERSION = 3.14
SYSVINIT_SITE = https://sources.skiffbuild.invalid/sysvinit
SYSVINIT_LICENSE = GPL-2.0+
SYSVINIT_LICENSE_FILES = LICENSE

SYSVINIT_DEPENDENCIES = $(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt)

$(eval $(generic-package))
