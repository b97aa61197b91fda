################################################################################
#
# libopenssl
#
################################################################################

LIBOPENSSL_VERSION = 3.6.2
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
