################################################################################
#
# go
#
################################################################################

# host-go is virtual: host-go-src (package/go/go-src) or host-go-bin
# (package/go/go-bin), as chosen by BR2_PACKAGE_PROVIDES_HOST_GO. Both
# download into $(DL_DIR)/go. The bootstrap compilers Buildroot builds go-src
# with are not modelled.
GO_VERSION = 1.26.3

$(eval $(host-virtual-package))

include $(sort $(wildcard package/go/*/*.mk))
