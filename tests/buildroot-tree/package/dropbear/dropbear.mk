################################################################################
#
# dropbear
#
################################################################################

DROPBEAR_VERSION = 2026.91
DROPBEAR_SITE = https://sources.skiffbuild.invalid/dropbear
DROPBEAR_LICENSE = MIT, BSD-2-Clause, Public domain
DROPBEAR_LICENSE_FILES = LICENSE

DROPBEAR_DEPENDENCIES = \
	$(if $(BR2_PACKAGE_ZLIB),zlib) \
	$(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt)

$(eval $(generic-package))
