package evidence

import (
	"errors"
	"testing"
)

// mimetype alone takes an HTML page that quotes "%PDF-" early on for a
// PDF; sniff must not.
func TestSniffRefusesAPageThatOnlyQuotesThePDFSignature(t *testing.T) {
	_, err := sniff([]byte("<html><!-- %PDF-1.7 --><script>alert(1)</script></html>"))
	var te *TypeError
	if !errors.As(err, &te) || te.Detected != "application/pdf" {
		t.Fatalf("sniff = %v, want a refusal of what mimetype calls a PDF", err)
	}
}
