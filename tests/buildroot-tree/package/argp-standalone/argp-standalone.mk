################################################################################
#
# argp-standalone
#
################################################################################

ARGP_STANDALONE_VERSION = 1.4.1
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
