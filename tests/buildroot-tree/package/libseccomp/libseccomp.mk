################################################################################
#
# libseccomp
#
################################################################################

LIBSECCOMP_VERSION = 2.6.0
LIBSECCOMP_SITE = https://sources.skiffbuild.invalid/libseccomp
LIBSECCOMP_LICENSE = LGPL-2.1
LIBSECCOMP_LICENSE_FILES = LICENSE

LIBSECCOMP_INSTALL_STAGING = YES

$(eval $(generic-package))
