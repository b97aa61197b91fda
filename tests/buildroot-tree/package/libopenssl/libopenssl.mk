################################################################################
#
# libopenssl
#
################################################################################

LIBOPENSSL_VERSION = 3.6.2
LIBOPENSSL_SOURCE = openssl-$(LIBOPENSSL_VERSION).tar.gz
LIBOPENSSL_SITE = https://sources.skiffbuild.invalid/libopenssl
LIBOPENSSL_LICENSE = Apache-2.0
LIBOPENSSL_LICENSE_FILES = LICENSE.txt

LIBOPENSSL_PROVIDES = openssl
LIBOPENSSL_INSTALL_STAGING = YES
LIBOPENSSL_DEPENDENCIES = zlib
HOST_LIBOPENSSL_DEPENDENCIES = host-zlib

$(eval $(generic-package))
$(eval $(host-generic-package))
