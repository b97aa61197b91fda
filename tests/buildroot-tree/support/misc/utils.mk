# Small make helpers used by the Makefile and the package infrastructure.

# Remove the double quotes kconfig puts around string values.
qstrip = $(strip $(subst ",,$(1)))
#"))  (balances the quote above for editors)

comma := ,
empty :=
space := $(empty) $(empty)
tab := $(empty)	$(empty)

# $(call reverse,a b c) -> c b a
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))

# $(call UPPERCASE,foo-bar) -> FOO_BAR (package name to variable prefix).
# One substitution per letter: no $(eval), so it is cheap enough to call
# for every package on every make run.
UPPERCASE = $(strip $(subst a,A,$(subst b,B,$(subst c,C,$(subst d,D,$(subst e,E,$(subst f,F,\
	$(subst g,G,$(subst h,H,$(subst i,I,$(subst j,J,$(subst k,K,$(subst l,L,\
	$(subst m,M,$(subst n,N,$(subst o,O,$(subst p,P,$(subst q,Q,$(subst r,R,\
	$(subst s,S,$(subst t,T,$(subst u,U,$(subst v,V,$(subst w,W,$(subst x,X,\
	$(subst y,Y,$(subst z,Z,$(subst -,_,$(subst .,_,$(1))))))))))))))))))))))))))))))

# A newline, to separate the expansions of a $(foreach ...) of $(eval)s.
define sep


endef
