################################################################################
#
# argp-standalone
#
################################################################################

ARGP_STANDALONE_VERSION = 1.4.1
ARGP_STANDALONE_SITE = https://sources.skiffbuild.invalid/argp-standalone
ARGP_STANDALONE_LICENSE = LGPL-2.1+
ARGP_STANDALONE_LICENSE_FILES = README.md

ARGP_STANDALONE_INSTALL_STAGING = YES

$(eval $(generic-package))
