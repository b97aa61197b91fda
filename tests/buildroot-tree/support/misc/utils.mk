# Small make helpers (the subset of Buildroot's utils.mk this tree uses).

# Remove the double quotes kconfig puts around string values.
qstrip = $(strip $(subst ",,$(1)))
#"))  (balances the quote above for editors)

comma := ,
empty :=
space := $(empty) $(empty)

# $(call reverse,a b c) -> c b a
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))

# $(call UPPERCASE,foo-bar) -> FOO_BAR (package name to variable prefix)
UPPERCASE_PAIRS := a:A b:B c:C d:D e:E f:F g:G h:H i:I j:J k:K l:L m:M n:N o:O p:P \
	q:Q r:R s:S t:T u:U v:V w:W x:X y:Y z:Z -:_
UPPERCASE = $(strip $(eval __uc := $(1))$(foreach p,$(UPPERCASE_PAIRS),\
	$(eval __uc := $(subst $(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))),$(__uc))))\
	$(__uc))

# A newline, to separate the expansions of a $(foreach ...) of $(eval)s.
define sep


endef
