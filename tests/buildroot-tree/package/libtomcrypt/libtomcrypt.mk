################################################################################
#
# libtomcrypt
#
################################################################################

LIBTOMCRYPT_VERSION = 1.18.2
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
