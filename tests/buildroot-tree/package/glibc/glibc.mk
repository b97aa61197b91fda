################################################################################
#
# glibc
#
################################################################################

GLIBC_VERSION = 2.42
GLIBC_SITE = https://sources.skiffbuild.invalid/glibc
GLIBC_LICENSE = GPL-2.0+ (programs), LGPL-2.1+, BSD-3-Clause, MIT (library)
GLIBC_LICENSE_FILES = COPYING COPYING.LIB LICENSES

# Locale data, fetched from its own site (a full URL, as Buildroot
# allows for _EXTRA_DOWNLOADS and _PATCH).
GLIBC_EXTRA_DOWNLOADS = https://sources.skiffbuild.invalid/glibc-localedata/glibc-localedata-2.42.tar.gz
GLIBC_DEPENDENCIES = linux-headers host-gcc-initial
GLIBC_ADD_TOOLCHAIN_DEPENDENCY = NO
GLIBC_INSTALL_STAGING = YES

$(eval $(generic-package))
