################################################################################
#
# openssh
#
################################################################################

OPENSSH_VERSION = 10.2p1
OPENSSH_SITE = https://sources.skiffbuild.invalid/openssh
OPENSSH_LICENSE = BSD-3-Clause, BSD-2-Clause, Public Domain
OPENSSH_LICENSE_FILES = LICENCE

OPENSSH_DEPENDENCIES = openssl zlib $(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt)

$(eval $(generic-package))
