################################################################################
#
# libressl
#
################################################################################

LIBRESSL_VERSION = 3.9.2
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
