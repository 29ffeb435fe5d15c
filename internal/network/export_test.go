package network

import "github.com/nyaruka/phonenumbers"

// NormaliseWithLibrary is a phone's normal form as the library alone makes
// it, for the fast path's test.
func NormaliseWithLibrary(v string) (string, error) {
	n, err := phonenumbers.Parse(v, "CN")
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", ErrPhone
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
