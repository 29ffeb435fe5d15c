package valid

import "testing"

func TestAmountReadsDecimalsIntoMinorUnits(t *testing.T) {
	for in, want := range map[string]int64{"199.00": 19900, "199": 19900, "0.5": 50, "12.34": 1234, " 7.01 ": 701, "1400000": 140000000} {
		if got, ok := Amount(in); !ok || got != want {
			t.Errorf("Amount(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "-1", "1.234", "1,00", "abc", "1e3", ".5", "1234567890123"} {
		if _, ok := Amount(in); ok {
			t.Errorf("Amount(%q) accepted", in)
		}
	}
	if !Currency("CNY") || Currency("cny") || Currency("CN") {
		t.Error("Currency")
	}
}
