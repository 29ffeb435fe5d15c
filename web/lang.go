package web

import (
	"strconv"

	"spotcheck/internal/i18n"
	"spotcheck/internal/user"
)

func parseLang(s string) (i18n.Lang, bool) { return i18n.Parse(s) }

func retryAfter(te *user.ThrottledError) string {
	return strconv.Itoa(int(te.RetryAfter.Seconds() + 0.999))
}
