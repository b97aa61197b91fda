################################################################################
#
# toolchain-external
#
################################################################################

# Virtual: the external toolchain package chosen in the menu
# (BR2_PACKAGE_PROVIDES_TOOLCHAIN_EXTERNAL).
TOOLCHAIN_EXTERNAL_ADD_TOOLCHAIN_DEPENDENCY = NO

$(eval $(virtual-package))

# Where the toolchain is, as in Buildroot: a downloaded one in the host
# directory, an installed one at BR2_TOOLCHAIN_EXTERNAL_PATH, or, with an
# empty path, the directory of <prefix>-gcc found on PATH.
TOOLCHAIN_EXTERNAL_PREFIX = $(call qstrip,$(BR2_TOOLCHAIN_EXTERNAL_PREFIX))
ifeq ($(BR2_TOOLCHAIN_EXTERNAL_DOWNLOAD),y)
TOOLCHAIN_EXTERNAL_INSTALL_DIR = $(HOST_DIR)/opt/ext-toolchain
else
TOOLCHAIN_EXTERNAL_INSTALL_DIR = $(abspath $(call qstrip,$(BR2_TOOLCHAIN_EXTERNAL_PATH)))
endif
ifeq ($(TOOLCHAIN_EXTERNAL_INSTALL_DIR),)
TOOLCHAIN_EXTERNAL_BIN = $(patsubst %/,%,$(dir $(shell which $(TOOLCHAIN_EXTERNAL_PREFIX)-gcc 2>/dev/null)))
else
TOOLCHAIN_EXTERNAL_BIN = $(TOOLCHAIN_EXTERNAL_INSTALL_DIR)/bin
endif
TOOLCHAIN_EXTERNAL_CC = $(TOOLCHAIN_EXTERNAL_BIN)/$(TOOLCHAIN_EXTERNAL_PREFIX)-gcc

# $(call toolchain-external-probe): Buildroot's checks of an installed
# toolchain at its configure step (toolchain/helpers.mk there), with its
# messages: the compiler runs, has a sysroot, its kernel headers are the
# selected series (strict, or at least that series with the latest one), its
# gcc is the selected version, and its C library the selected one.
define toolchain-external-probe
	cc="$(TOOLCHAIN_EXTERNAL_CC)"; \
	if ! "$$cc" -v >/dev/null 2>&1; then \
		echo "Cannot execute cross-compiler '$$cc'"; exit 1; \
	fi; \
	sysroot=`"$$cc" -print-sysroot 2>/dev/null`; \
	if [ -z "$$sysroot" ] || [ ! -d "$$sysroot" ]; then \
		echo "External toolchain doesn't support --sysroot. Cannot use."; exit 1; \
	fi; \
	header="$$sysroot/usr/include/linux/version.h"; \
	if [ ! -f "$$header" ]; then \
		echo "<stdin>: fatal error: $$header: No such file or directory"; exit 1; \
	fi; \
	code=`sed -n 's/^#define LINUX_VERSION_CODE \([0-9]*\).*/\1/p' "$$header"`; \
	wanted="$(call qstrip,$(BR2_TOOLCHAIN_HEADERS_AT_LEAST)).0"; \
	major=$${wanted%%.*}; minor=$${wanted#*.}; minor=$${minor%%.*}; \
	have=$$(( $${code:-0} & ~255 )); need=$$(( (major << 16) + (minor << 8) )); \
	if [ "$$have" -ne "$$need" ] && \
			! { [ "$(BR2_TOOLCHAIN_HEADERS_LATEST)" = y ] && [ "$$have" -gt "$$need" ]; }; then \
		printf "Incorrect selection of kernel headers: expected %d.%d.x, got %d.%d.x\n" \
			"$$major" "$$minor" $$(( $${code:-0} >> 16 )) $$(( ($${code:-0} >> 8) & 255 )); \
		exit 1; \
	fi; \
	gcc_wanted="$(call qstrip,$(BR2_TOOLCHAIN_GCC_AT_LEAST))"; \
	gcc_real=`"$$cc" -dumpversion`; \
	case "$$gcc_real." in \
	"$$gcc_wanted".*) ;; \
	*) printf "Incorrect selection of gcc version: expected %s.x, got %s\n" \
		"$$gcc_wanted" "$$gcc_real"; exit 1 ;; \
	esac; \
	if [ "$(BR2_TOOLCHAIN_EXTERNAL_GLIBC)" = y ]; then \
		loaders=`find -L "$$sysroot/" -maxdepth 2 -name 'ld-linux*.so.*' -o -name 'ld.so.*' \
			-o -name 'ld64.so.*' | wc -l`; \
	elif [ "$(BR2_TOOLCHAIN_EXTERNAL_MUSL)" = y ]; then \
		loaders=`find -L "$$sysroot/" -maxdepth 2 -name 'ld-musl*.so.*' | wc -l`; \
	else \
		loaders=`find -L "$$sysroot/usr/include/bits" -name uClibc_config.h 2>/dev/null | wc -l`; \
	fi; \
	if [ "$$loaders" -eq 0 ]; then \
		echo "Incorrect selection of the C library"; exit 1; \
	fi
endef

include $(sort $(wildcard toolchain/toolchain-external/*/*.mk))
