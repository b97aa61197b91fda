################################################################################
#
# go-bin
#
################################################################################

# Pre-built for the build machine: the file name depends on its
# architecture (BR2_PACKAGE_HOST_GO_BIN_HOST_ARCH), so the download set does.
GO_BIN_VERSION = $(GO_VERSION)
GO_BIN_SITE = https://sources.skiffbuild.invalid/go
GO_BIN_SOURCE = go$(GO_VERSION).linux-$(call qstrip,$(BR2_PACKAGE_HOST_GO_BIN_HOST_ARCH)).tar.gz
GO_BIN_DL_SUBDIR = go
# legal-info saves the Go sources, not this binary archive (as Buildroot).
HOST_GO_BIN_ACTUAL_SOURCE_TARBALL = go$(GO_VERSION).src.tar.gz
GO_BIN_LICENSE = BSD-3-Clause
GO_BIN_LICENSE_FILES = LICENSE

HOST_GO_BIN_PROVIDES = host-go

$(eval $(host-generic-package))
