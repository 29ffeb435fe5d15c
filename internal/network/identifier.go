// Package network finds the seller networks behind shops: the identifiers
// the risk systems know of each shop (phones, ID documents, payout
// accounts, addresses, devices, listing images), kept only as keyed hashes
// and masked forms; the links they suggest between shops; and the
// clusters of shops that confirmed links join.
package network

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/width"
)

// Kind is what an identifier is.
type Kind string

const (
	Phone            Kind = "phone"
	IDDocument       Kind = "id_document"
	PayoutAccount    Kind = "payout_account"
	ReturnAddress    Kind = "return_address"
	WarehouseAddress Kind = "warehouse_address"
	Email            Kind = "email"
	Device           Kind = "device"
	ImageHash        Kind = "image_hash" // a 64-bit perceptual hash of a listing image, as 16 hex digits
	Other            Kind = "other"
)

// Kinds lists every kind, in the order screens show them.
var Kinds = []Kind{Phone, IDDocument, PayoutAccount, ReturnAddress, WarehouseAddress, Email, Device, ImageHash, Other}

// MaxValue is the longest identifier value taken, in bytes.
const MaxValue = 500

// Identifier is one identifier of a shop as it is kept: never its value,
// only the keyed hash of its normalised form (Digest), a masked form to
// show staff, and for an image hash its bits (Image), which are not
// personal and must be compared by Hamming distance.
type Identifier struct {
	Kind   Kind
	Digest []byte
	Masked string
	Image  *uint64
}

// Problems with a value, as the flag contract's rejection codes.
var (
	ErrUnknownKind = errors.New("unknown_kind")
	ErrEmpty       = errors.New("required")
	ErrTooLong     = errors.New("too_long")
	ErrPhone       = errors.New("invalid_phone")
	ErrImageHash   = errors.New("invalid_image_hash")
)

// ParseKind reads a kind's name.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); slices.Contains(Kinds, k) {
		return k, nil
	}
	return "", ErrUnknownKind
}

// Normalise is the form of value that equal identifiers share: full-width
// characters folded to half-width, then by kind — a phone number in E.164
// (+86 when it names no country), an e-mail or device lower-cased, an
// address lower-cased without spaces or punctuation, an ID document or
// account upper-cased without spaces and dashes, an image hash as 16
// lower-case hex digits.
func Normalise(kind Kind, value string) (string, error) {
	if len(value) > MaxValue {
		return "", ErrTooLong
	}
	v := strings.TrimSpace(width.Fold.String(value))
	if v == "" {
		return "", ErrEmpty
	}
	switch kind {
	case Phone:
		if e, ok := chineseMobile(v); ok { // most of them: no need to parse
			return e, nil
		}
		n, err := phonenumbers.Parse(v, "CN")
		if err != nil || !phonenumbers.IsPossibleNumber(n) {
			return "", ErrPhone
		}
		return phonenumbers.Format(n, phonenumbers.E164), nil
	case Email, Device:
		return strings.ToLower(strings.Join(strings.Fields(v), "")), nil
	case ReturnAddress, WarehouseAddress:
		return strings.ToLower(strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || unicode.IsPunct(r) {
				return -1
			}
			return r
		}, v)), nil
	case IDDocument, PayoutAccount:
		return strings.ToUpper(strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || r == '-' {
				return -1
			}
			return r
		}, v)), nil
	case ImageHash:
		v = strings.ToLower(strings.TrimPrefix(strings.ToLower(v), "0x"))
		if _, err := strconv.ParseUint(v, 16, 64); err != nil || len(v) != 16 {
			return "", ErrImageHash
		}
		return v, nil
	case Other:
		return strings.ToLower(strings.Join(strings.Fields(v), " ")), nil
	}
	return "", ErrUnknownKind
}

// chineseMobile is v in E.164 when it is plainly a mainland mobile number
// (1[3-9] and nine more digits, maybe after +86 or 86, maybe spaced or
// dashed): what the phone-number library would make of it, without its
// cost.
func chineseMobile(v string) (string, bool) {
	var b [16]byte
	n := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			if n == len(b) {
				return "", false
			}
			b[n] = c
			n++
		case c == ' ' || c == '-' || (c == '+' && i == 0):
		default:
			return "", false
		}
	}
	d := string(b[:n])
	if n == 13 && d[:2] == "86" {
		d = d[2:]
	} else if v[0] == '+' {
		return "", false // another country's code
	}
	if len(d) != 11 || d[0] != '1' || d[1] < '3' {
		return "", false
	}
	return "+86" + d, true
}

// class is what kinds compare with each other: a return address matches
// a warehouse address; every other kind only itself.
func class(k Kind) string {
	if k == ReturnAddress || k == WarehouseAddress {
		return "address"
	}
	return string(k)
}

// Key is the secret identifiers are hashed with (HMAC-SHA256): without it
// a copy of the database cannot be searched for a phone number by trying
// them all.
type Key []byte

// Make normalises value, hashes it with the key and masks it.
func (key Key) Make(kind Kind, value string) (Identifier, error) {
	if _, err := ParseKind(string(kind)); err != nil {
		return Identifier{}, err
	}
	n, err := Normalise(kind, value)
	if err != nil {
		return Identifier{}, err
	}
	if kind == ImageHash {
		bits, _ := strconv.ParseUint(n, 16, 64)
		return Identifier{Kind: kind, Digest: binary.BigEndian.AppendUint64(nil, bits), Masked: n, Image: &bits}, nil
	}
	masked := ""
	if kind == Phone { // from the E.164 form, without parsing it again
		masked = maskPhone(n)
	} else {
		masked = Mask(kind, n)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(class(kind)))
	mac.Write([]byte{0})
	mac.Write([]byte(n))
	return Identifier{Kind: kind, Digest: mac.Sum(nil), Masked: masked}, nil
}

// maskPhone masks an E.164 number: its country code (read from the
// calling-code table), the first three and last four digits of the rest.
func maskPhone(e164 string) string {
	digits := strings.TrimPrefix(e164, "+")
	for l := 1; l <= 3 && l < len(digits); l++ {
		cc, err := strconv.Atoi(digits[:l])
		if err != nil || phonenumbers.GetRegionCodeForCountryCode(cc) == "ZZ" {
			continue
		}
		if national := digits[l:]; len(national) > 7 {
			return "+" + digits[:l] + " " + national[:3] + "****" + national[len(national)-4:]
		}
		break
	}
	return Mask(Phone, e164)
}

// Mask is the form of a normalised value staff see: enough to tell two
// apart, never the whole (+86 138****2231, 浙江省杭州市****).
func Mask(kind Kind, n string) string {
	r := []rune(n)
	keep := func(head, tail int) string {
		if head+tail >= len(r) { // too short to show any of it
			head, tail = min(head, len(r)/3), min(tail, len(r)/4)
		}
		return string(r[:head]) + "****" + string(r[len(r)-tail:])
	}
	switch kind {
	case Phone:
		if num, err := phonenumbers.Parse(n, "CN"); err == nil {
			national := []rune(phonenumbers.GetNationalSignificantNumber(num))
			if len(national) > 7 {
				return "+" + strconv.Itoa(int(num.GetCountryCode())) + " " + string(national[:3]) + "****" + string(national[len(national)-4:])
			}
		}
		return keep(3, 2)
	case Email:
		local, domain, ok := strings.Cut(n, "@")
		if !ok || local == "" {
			return keep(1, 0)
		}
		first, _ := utf8.DecodeRuneInString(local)
		return string(first) + "****@" + domain
	case ReturnAddress, WarehouseAddress:
		return keep(min(6, len(r)/2), 0)
	case IDDocument:
		return keep(2, 2)
	case PayoutAccount, Device:
		return keep(0, 4)
	}
	return keep(2, 0)
}
