################################################################################
#
# go-src
#
################################################################################

GO_SRC_VERSION = $(GO_VERSION)
GO_SRC_SITE = https://sources.skiffbuild.invalid/go
GO_SRC_SOURCE = go$(GO_VERSION).src.tar.gz
GO_SRC_DL_SUBDIR = go
GO_SRC_LICENSE = BSD-3-Clause
GO_SRC_LICENSE_FILES = LICENSE

HOST_GO_SRC_PROVIDES = host-go

$(eval $(host-generic-package))
