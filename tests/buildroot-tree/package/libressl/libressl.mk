################################################################################
#
# libressl
#
################################################################################

LIBRESSL_VERSION = 3.9.2
LIBRESSL_SITE = https://sources.skiffbuild.invalid/libressl
LIBRESSL_LICENSE = ISC (new additions), OpenSSL or SSLeay (original OpenSSL code)
LIBRESSL_LICENSE_FILES = COPYING

LIBRESSL_PROVIDES = openssl
LIBRESSL_INSTALL_STAGING = YES

$(eval $(generic-package))
