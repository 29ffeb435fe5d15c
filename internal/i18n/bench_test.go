package i18n

import "testing"

// BenchmarkT is a page's common case: a plain key (plain), and one with
// arguments (args), in both languages: two calls per op.
func BenchmarkT(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = English.T("login.title")
			_ = Chinese.T("login.title")
		}
	})
	b.Run("args", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = English.T("import.preview_intro", "flags.csv", "12")
			_ = Chinese.T("import.preview_intro", "flags.csv", "12")
		}
	})
}

// BenchmarkN picks plural forms, n filling the verb or with arguments:
// four calls per op.
func BenchmarkN(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = English.N("import.start", 1, "1")
		_ = English.N("import.start", 2, "2")
		_ = Chinese.N("import.start", 1, "1")
		_ = English.N("import.counts", 1, "1", "1", "100")
	}
}
