package network_test

import (
	"errors"
	"testing"

	"spotcheck/internal/network"
)

func TestValuesAreNormalisedBeforeTheyAreCompared(t *testing.T) {
	for _, c := range []struct {
		kind      network.Kind
		in, want  string
		wantError error
	}{
		{network.Phone, "138 0013 2231", "+8613800132231", nil},
		{network.Phone, "+86 138-0013-2231", "+8613800132231", nil},
		{network.Phone, "１３８００１３２２３１", "+8613800132231", nil},      // full-width digits
		{network.Phone, "(0571) 8888 1234", "+8657188881234", nil}, // a Hangzhou landline
		{network.Phone, "+852 9123 4567", "+85291234567", nil},     // Hong Kong, its own code
		{network.Phone, "not a phone", "", network.ErrPhone},
		{network.Phone, "12", "", network.ErrPhone},
		{network.Email, " Seller.Wang@Example.COM ", "seller.wang@example.com", nil},
		{network.Email, "ｓｅｌｌｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ", "seller@example.com", nil},
		{network.ReturnAddress, "浙江省 杭州市 西湖区，文三路 100 号", "浙江省杭州市西湖区文三路100号", nil},
		{network.WarehouseAddress, "浙江省杭州市西湖区文三路１００号", "浙江省杭州市西湖区文三路100号", nil},
		{network.ReturnAddress, "12 Harbour Rd., Unit 5", "12harbourrdunit5", nil},
		{network.IDDocument, "330106 19900101 123x", "33010619900101123X", nil},
		{network.PayoutAccount, "6222-0212-3456-7890", "6222021234567890", nil},
		{network.Device, " IMEI 3568 ", "imei3568", nil},
		{network.ImageHash, "0xF0F0F0F0A5A5A5A5", "f0f0f0f0a5a5a5a5", nil},
		{network.ImageHash, "f0f0", "", network.ErrImageHash},
		{network.ImageHash, "g0f0f0f0a5a5a5a5", "", network.ErrImageHash},
		{network.Other, "  Same   Courier  ", "same courier", nil},
		{network.Other, "   ", "", network.ErrEmpty},
	} {
		got, err := network.Normalise(c.kind, c.in)
		if !errors.Is(err, c.wantError) || got != c.want {
			t.Errorf("%s %q: %q, %v; want %q, %v", c.kind, c.in, got, err, c.want, c.wantError)
		}
	}
}

func TestMaskedFormsShowEnoughToTellApartAndNeverTheWhole(t *testing.T) {
	key := network.Key("0123456789abcdef0123456789abcdef")
	for _, c := range []struct {
		kind     network.Kind
		in, want string
	}{
		{network.Phone, "13800132231", "+86 138****2231"},
		{network.ReturnAddress, "浙江省杭州市西湖区文三路100号", "浙江省杭州市****"},
		{network.Email, "seller.wang@example.com", "s****@example.com"},
		{network.IDDocument, "33010619900101123X", "33****3X"},
		{network.PayoutAccount, "6222021234567890", "****7890"},
		{network.Other, "ab", "****"},
	} {
		id, err := key.Make(c.kind, c.in)
		if err != nil {
			t.Fatalf("%s %q: %v", c.kind, c.in, err)
		}
		if id.Masked != c.want {
			t.Errorf("%s %q is shown as %q, want %q", c.kind, c.in, id.Masked, c.want)
		}
	}
}

func TestEqualValuesShareADigestAndOnlyTheKeyMakesIt(t *testing.T) {
	key := network.Key("0123456789abcdef0123456789abcdef")
	other := network.Key("fedcba9876543210fedcba9876543210")
	a, _ := key.Make(network.Phone, "138 0013 2231")
	b, _ := key.Make(network.Phone, "+86 13800132231")
	c, _ := other.Make(network.Phone, "138 0013 2231")
	ret, _ := key.Make(network.ReturnAddress, "浙江省杭州市西湖区文三路100号")
	ware, _ := key.Make(network.WarehouseAddress, "浙江省 杭州市 西湖区 文三路100号")
	asOther, _ := key.Make(network.Other, "+8613800132231")
	switch {
	case string(a.Digest) != string(b.Digest):
		t.Error("one phone number written two ways has two digests")
	case string(a.Digest) == string(c.Digest):
		t.Error("two keys make the same digest")
	case string(ret.Digest) != string(ware.Digest):
		t.Error("a return address and the same warehouse address do not match")
	case string(a.Digest) == string(asOther.Digest):
		t.Error("a phone and an 'other' value match")
	case len(a.Digest) != 32:
		t.Errorf("the digest is %d bytes, not an HMAC-SHA256", len(a.Digest))
	}
}

// TestTheMobileFastPathAgreesWithTheLibrary checks the shortcut for plain
// mainland mobile numbers against the phone-number library's answer.
func TestTheMobileFastPathAgreesWithTheLibrary(t *testing.T) {
	for _, v := range []string{"13800132231", "138 0013 2231", "138-0013-2231", "+86 138 0013 2231", "8613800132231", "+8613800132231",
		"19912345678", "12345678901", "+85291234567", "+1 650 253 0000", "0571 8888 1234", "1380013223", "138001322311"} {
		want, werr := network.NormaliseWithLibrary(v)
		got, err := network.Normalise(network.Phone, v)
		if got != want || (err == nil) != (werr == nil) {
			t.Errorf("%q: %q, %v; the library says %q, %v", v, got, err, want, werr)
		}
	}
}
