################################################################################
#
# Downloads of the skiffbuild test tree, with Buildroot's interface:
#
# - the download directory DL_DIR: BR2_DL_DIR from the command line or the
#   environment, else from .config, else $(TOPDIR)/dl; absolute and created;
# - where a file is looked for, in order: BR2_PRIMARY_SITE/<dl_dir>,
#   BR2_PRIMARY_SITE, the package's own site, BR2_BACKUP_SITE/<dl_dir>,
#   BR2_BACKUP_SITE (only the first two with BR2_PRIMARY_SITE_ONLY);
#   each as <backend>[|urlencode]+<base URL>, the form show-info prints;
# - support/download/dl-wrapper fetches one file into
#   $(DL_DIR)/<dl_dir>/<file>, under flock $(DL_DIR)/<dl_dir>/.lock, and
#   checks it against the package's .hash files (support/download/check-hash).
#
# Site variables given on the make command line override .config, as make
# command-line variables do; from the environment they do not.
#
################################################################################

# The environment's BR2_DL_DIR was saved in DL_DIR by the Makefile before
# .config overrode it.
ifeq ($(origin DL_DIR),undefined)
DL_DIR ?= $(call qstrip,$(BR2_DL_DIR))
ifeq ($(DL_DIR),)
DL_DIR := $(TOPDIR)/dl
endif
else
BR2_DL_DIR = $(DL_DIR)
endif
DL_DIR := $(shell mkdir -p $(DL_DIR) && cd $(DL_DIR) >/dev/null && pwd -P)

# Files that may be downloaded without a hash even when a .hash file exists
# (custom kernel versions, patches given as URLs...). Ignored with
# BR2_DOWNLOAD_FORCE_CHECK_HASHES.
BR_NO_CHECK_HASH_FOR :=

# $(call pkg-site-uri,BASE-URL) -> <scheme>|urlencode+BASE-URL (mirrors)
pkg-site-uri = $(call pkg-url-scheme,$(1))|urlencode+$(1)

# $(call pkg-download-uris,DOWNLOAD,PREFIX): where to look for one entry of
# <PKG>_ALL_DOWNLOADS, in order.
pkg-download-uris = $(strip \
	$(if $(call qstrip,$(BR2_PRIMARY_SITE)), \
		$(call pkg-site-uri,$(call qstrip,$(BR2_PRIMARY_SITE))/$($(2)_DL_SUBDIR)) \
		$(call pkg-site-uri,$(call qstrip,$(BR2_PRIMARY_SITE)))) \
	$(if $(BR2_PRIMARY_SITE_ONLY),, \
		$(patsubst %/,%,$(dir $(1))) \
		$(if $(call qstrip,$(BR2_BACKUP_SITE)), \
			$(call pkg-site-uri,$(call qstrip,$(BR2_BACKUP_SITE))/$($(2)_DL_SUBDIR)) \
			$(call pkg-site-uri,$(call qstrip,$(BR2_BACKUP_SITE))))))

DL_WRAPPER = $(TOPDIR)/support/download/dl-wrapper

# The interpreter itself rather than a wrapper script (such as a pyenv shim),
# looked up once, by the first download; -S: the standard library is enough.
# Each download then costs a few tens of milliseconds.
DL_PYTHON = $(eval DL_PYTHON := $(or $(shell $(HOSTPYTHON) -c 'import sys; print(sys.executable)'),$(HOSTPYTHON)) -S)$(DL_PYTHON)
FLOCK := $(shell command -v flock 2>/dev/null)

# make -s: quiet backends.
ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
DL_QUIET := -q
endif

# $(call pkg-message,TEXT): ">>> <pkg> <version> TEXT", for the package of
# the current recipe (package/pkg-steps.mk).
pkg-message = $(call MESSAGE,$(1))

# $(call pkg-download,DOWNLOAD): recipe lines fetching one file of $(PKG).
define pkg-download
	$(Q)mkdir -p $($(PKG)_DL_DIR)
	$(Q)BUILD_DIR='$(BUILD_DIR)' \
	WGET='$(call qstrip,$(BR2_WGET))' \
	LOCALFILES='$(call qstrip,$(BR2_LOCALFILES))' \
	BR_NO_CHECK_HASH_FOR='$(if $(BR2_DOWNLOAD_FORCE_CHECK_HASHES),,$(strip $(BR_NO_CHECK_HASH_FOR)))' \
	$(if $(FLOCK),$(FLOCK) $($(PKG)_DL_DIR)/.lock) \
	$(DL_PYTHON) $(DL_WRAPPER) \
		-c '$($(PKG)_DL_VERSION)' \
		-d '$($(PKG)_DL_DIR)' \
		-D '$(DL_DIR)' \
		-f '$(notdir $(1))' \
		$(foreach h,$($(PKG)_HASH_FILES),-H '$(h)') \
		-n '$($(PKG)_DL_SUBDIR)-$($(PKG)_VERSION)' \
		-N '$($(PKG)_RAWNAME)' \
		-o '$($(PKG)_DL_DIR)/$(notdir $(1))' \
		$(foreach u,$(call pkg-download-uris,$(1),$(PKG)),-u '$(u)') \
		$(DL_QUIET) \
		-- \
		$($(PKG)_DL_OPTS)
endef

# Download step of every package: all its files, then the stamp. Like in
# Buildroot, an existing stamp means "downloaded": removing a file from the
# download directory does not fetch it again until <pkg>-dirclean.
$(BUILD_DIR)/%/.stamp_downloaded:
	$(Q)$(if $(strip $(foreach d,$($(PKG)_ALL_DOWNLOADS),\
		$(if $(wildcard $($(PKG)_DL_DIR)/$(notdir $(d))),,missing))),\
		$(call pkg-message,Downloading),:)
	$(foreach d,$($(PKG)_ALL_DOWNLOADS),$(call pkg-download,$(d))$(sep))
	$(Q)mkdir -p $(@D)
	$(Q)touch $@

# The actual source archive of a package whose _SOURCE is a binary
# (_ACTUAL_SOURCE_TARBALL from _ACTUAL_SOURCE_SITE), for legal-info.
$(BUILD_DIR)/%/.stamp_actual_downloaded:
	$(call pkg-download,$($(PKG)_SITE_METHOD)+$($(PKG)_ACTUAL_SOURCE_SITE)/$($(PKG)_ACTUAL_SOURCE_TARBALL))
	$(Q)mkdir -p $(@D)
	$(Q)touch $@
