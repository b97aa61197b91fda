################################################################################
#
# libseccomp
#
################################################################################

LIBSECCOMP_VERSION = 2.6.0
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
