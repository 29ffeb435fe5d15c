package web

import "testing"

func TestSamePageSeesAFragmentOfTheCurrentPage(t *testing.T) {
	for _, tc := range []struct {
		current, target string
		want            bool
	}{
		{"http://x.test/cases/SC-1", "/cases/SC-1#enforcement", true},
		{"http://x.test/cases/SC-1#evidence", "/cases/SC-1#enforcement", true},
		{"http://x.test/cases/SC-1", "/cases/SC-2#enforcement", false},
		{"http://x.test/cases/SC-1", "/cases/SC-1", false}, // no fragment: location.href reloads
		{"", "/cases/SC-1#x", false},
		{"http://x.test/assignments/5?x=1", "/assignments/5#x", false},
	} {
		if got := samePage(tc.current, tc.target); got != tc.want {
			t.Errorf("samePage(%q, %q) = %v", tc.current, tc.target, got)
		}
	}
}
