################################################################################
#
# crun
#
################################################################################

CRUN_VERSION = 1.24
CRUN_SITE = https://sources.skiffbuild.invalid/crun
CRUN_LICENSE = GPL-2.0+ (crun binary), LGPL-2.1+ (libcrun)
CRUN_LICENSE_FILES = COPYING COPYING.libcrun

CRUN_DEPENDENCIES = yajl $(if $(BR2_PACKAGE_LIBCAP),libcap) \
	$(if $(BR2_PACKAGE_ARGP_STANDALONE),argp-standalone)

$(eval $(generic-package))
