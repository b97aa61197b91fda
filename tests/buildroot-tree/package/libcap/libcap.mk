################################################################################
#
# libcap
#
################################################################################

LIBCAP_VERSION = 2.78
LIBCAP_SITE = https://sources.skiffbuild.invalid/libcap
LIBCAP_LICENSE = GPL-2.0 or BSD-3-Clause
LIBCAP_LICENSE_FILES = License

LIBCAP_INSTALL_STAGING = YES

$(eval $(generic-package))
