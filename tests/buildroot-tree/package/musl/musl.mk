################################################################################
#
# musl
#
################################################################################

MUSL_VERSION = 1.2.6
MUSL_SITE = https://sources.skiffbuild.invalid/musl
MUSL_LICENSE = MIT
MUSL_LICENSE_FILES = COPYRIGHT

MUSL_DEPENDENCIES = linux-headers host-gcc-initial
MUSL_ADD_TOOLCHAIN_DEPENDENCY = NO
MUSL_INSTALL_STAGING = YES

$(eval $(generic-package))
