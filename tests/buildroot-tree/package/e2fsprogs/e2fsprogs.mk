################################################################################
#
# e2fsprogs
#
################################################################################

E2FSPROGS_VERSION = 1.47.3
E2FSPROGS_SITE = https://sources.skiffbuild.invalid/e2fsprogs
E2FSPROGS_LICENSE = GPL-2.0, MIT-like with advertising clause (libss and libet)
E2FSPROGS_LICENSE_FILES = LICENSE

E2FSPROGS_DEPENDENCIES = util-linux
HOST_E2FSPROGS_DEPENDENCIES = host-util-linux

$(eval $(generic-package))
$(eval $(host-generic-package))
