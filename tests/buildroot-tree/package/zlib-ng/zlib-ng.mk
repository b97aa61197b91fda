################################################################################
#
# zlib-ng
#
################################################################################

ZLIB_NG_VERSION = 2.3.3
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
