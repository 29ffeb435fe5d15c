package i18n

import "testing"

// BenchmarkT is a page's common case: a plain key and one with arguments,
// in both languages.
func BenchmarkT(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = English.T("login.title")
		_ = Chinese.T("login.title")
		_ = English.T("import.preview_intro", "flags.csv", "12")
		_ = Chinese.T("import.preview_intro", "flags.csv", "12")
	}
}

// BenchmarkN picks plural forms: n filling the verb, and given arguments.
func BenchmarkN(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = English.N("import.start", 1, "1")
		_ = English.N("import.start", 2, "2")
		_ = Chinese.N("import.start", 1, "1")
		_ = English.N("import.counts", 1, "1", "1", "100")
	}
}
