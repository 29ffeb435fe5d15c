package role

import (
	"errors"
	"testing"
)

func TestParseAcceptsEveryRoleAndRefusesOthers(t *testing.T) {
	for _, r := range All {
		got, err := Parse(r.String())
		if err != nil || got != r {
			t.Errorf("Parse(%q) = %v, %v", r, got, err)
		}
	}
	for _, bad := range []string{"", "Admin", "root", " staff"} {
		if _, err := Parse(bad); !errors.Is(err, ErrUnknown) {
			t.Errorf("Parse(%q) error = %v, want ErrUnknown", bad, err)
		}
	}
}

func TestZeroRoleIsNotStored(t *testing.T) {
	if _, err := (Role{}).Value(); err == nil {
		t.Fatal("the zero role was accepted for storage")
	}
	var r Role
	if err := r.Scan("wizard"); err == nil {
		t.Fatal("scanning an unknown role succeeded")
	}
	if err := r.Scan([]byte("brand")); err != nil || r != Brand {
		t.Fatalf("Scan(brand) = %v, %v", r, err)
	}
}
