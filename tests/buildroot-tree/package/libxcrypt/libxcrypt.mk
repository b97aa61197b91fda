################################################################################
#
# libxcrypt
#
################################################################################

LIBXCRYPT_VERSION = 4.5.2
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
