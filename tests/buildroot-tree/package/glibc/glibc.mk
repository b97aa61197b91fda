################################################################################
#
# glibc
#
################################################################################

GLIBC_VERSION = 2.42
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
