################################################################################
#
# libcap
#
################################################################################

LIBCAP_VERSION = 2.78
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
