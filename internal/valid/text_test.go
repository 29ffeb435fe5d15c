package valid

import "testing"

func TestPlainTextIsWhatAPersonTypes(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "Star Watch 表店": true, "tab\there\r\nnext": true,
		"nul\x00": false, "bell\a": false, "del\x7f": false, "c1\u0085": false, "bad\xff": false,
	} {
		if got := Plain(s); got != want {
			t.Errorf("Plain(%q) = %v, want %v", s, got, want)
		}
	}
	if got := Clean("IMG\x00_20\xff41\u0085.jpg\t"); got != "IMG_2041.jpg\t" {
		t.Errorf("Clean = %q", got)
	}
}
