package valid

import (
	"regexp"
	"strings"
)

var (
	amountRE   = regexp.MustCompile(`^\d{1,12}(\.\d{1,2})?$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
)

// Amount reads a decimal amount such as 199.00 into minor units (fen,
// cents); ok is false for anything else.
func Amount(s string) (minor int64, ok bool) {
	s = strings.TrimSpace(s)
	if !amountRE.MatchString(s) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	for _, d := range whole {
		minor = minor*10 + int64(d-'0')
	}
	frac = (frac + "00")[:2]
	return minor*100 + int64(frac[0]-'0')*10 + int64(frac[1]-'0'), true
}

// Currency reports whether s is an ISO 4217 code such as CNY.
func Currency(s string) bool { return currencyRE.MatchString(s) }
