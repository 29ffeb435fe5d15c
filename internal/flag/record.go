// Package flag takes in the risk systems' signals about suspect shops
// (through the API, CSV uploads and brand reports), deduplicates them,
// groups them into cases, and serves the staff's triage inbox.
package flag

import (
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"spotcheck/internal/network"
	"spotcheck/internal/valid"
)

// Record is one flag as the risk systems send it: the API contract.
type Record struct {
	Source     string         `json:"source"`
	ExternalID string         `json:"external_id"`
	Brand      string         `json:"brand"`
	Score      *float64       `json:"score"`
	Rule       string         `json:"rule,omitempty"`
	DetectedAt string         `json:"detected_at"`
	Shop       *ShopRecord    `json:"shop"`
	Listing    *ListingRecord `json:"listing,omitempty"`

	raw json.RawMessage // the record as sent, kept with the flag
}

// ShopRecord identifies the shop a flag is about.
type ShopRecord struct {
	Platform    string             `json:"platform"`
	ID          string             `json:"id"`
	Name        string             `json:"name,omitempty"`
	Owner       string             `json:"owner,omitempty"`
	Identifiers []IdentifierRecord `json:"identifiers,omitempty"`
}

// IdentifierRecord is one thing the risk systems know behind a shop (see
// network.Kinds). Its value is personal data: it is hashed and masked on
// arrival and never stored.
type IdentifierRecord struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// MaxIdentifiers is how many identifiers one shop record may carry.
const MaxIdentifiers = 50

// ListingRecord is the listing a flag is about, if any.
type ListingRecord struct {
	ID       string `json:"id"`
	URL      string `json:"url,omitempty"`
	Title    string `json:"title,omitempty"`
	Price    string `json:"price,omitempty"`
	Currency string `json:"currency,omitempty"`
}

// Rejection says why one record was refused: its index in the request,
// the field (JSON path) and a machine-readable code with a stable English
// message.
type Rejection struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// checked is a valid record with its parsed values.
type checked struct {
	index      int
	rec        Record
	brandID    int64
	score      float64
	detectedAt time.Time
	priceMinor *int64
	ids        []network.Identifier // the shop's identifiers, hashed and masked
	repeatOf   int64                // the earlier case of a shop tied to this one that sold fakes, 0 for none
}

// texts lists every string of the record with its field (JSON path).
func (r Record) texts() []struct{ field, value string } {
	out := []struct{ field, value string }{{"source", r.Source}, {"external_id", r.ExternalID}, {"brand", r.Brand},
		{"rule", r.Rule}, {"detected_at", r.DetectedAt}}
	if s := r.Shop; s != nil {
		out = append(out, []struct{ field, value string }{{"shop.platform", s.Platform}, {"shop.id", s.ID},
			{"shop.name", s.Name}, {"shop.owner", s.Owner}}...)
		for i, id := range s.Identifiers {
			at := "shop.identifiers[" + strconv.Itoa(i) + "]"
			out = append(out, struct{ field, value string }{at + ".kind", id.Kind}, struct{ field, value string }{at + ".value", id.Value})
		}
	}
	if l := r.Listing; l != nil {
		out = append(out, []struct{ field, value string }{{"listing.id", l.ID}, {"listing.url", l.URL}, {"listing.title", l.Title},
			{"listing.price", l.Price}, {"listing.currency", l.Currency}}...)
	}
	return out
}

// check validates r; brands maps lower-cased brand names to ids; key
// hashes the shop's identifiers (nil: this server takes none).
func check(i int, r Record, brands map[string]int64, key network.Key, memo identifierMemo, now time.Time) (checked, *Rejection) {
	reject := func(field, code, msg string) (checked, *Rejection) {
		return checked{}, &Rejection{Index: i, Field: field, Code: code, Message: msg}
	}
	c := checked{index: i, rec: r}
	for _, f := range r.texts() {
		if !valid.Plain(f.value) {
			return reject(f.field, "control_character", f.field+" holds a control character (such as NUL) or bytes that are not UTF-8")
		}
	}
	switch {
	case strings.TrimSpace(r.Source) == "":
		return reject("source", "required", "source is required")
	case len(r.Source) > 100:
		return reject("source", "too_long", "source is longer than 100 characters")
	case strings.TrimSpace(r.ExternalID) == "":
		return reject("external_id", "required", "external_id is required")
	case len(r.ExternalID) > 200:
		return reject("external_id", "too_long", "external_id is longer than 200 characters")
	case strings.TrimSpace(r.Brand) == "":
		return reject("brand", "required", "brand is required")
	}
	id, ok := brands[strings.ToLower(strings.TrimSpace(r.Brand))]
	if !ok {
		return reject("brand", "unknown_brand", "brand is not set up in Spotcheck; an administrator must add it first")
	}
	c.brandID = id
	if r.Score == nil {
		return reject("score", "required", "score is required")
	}
	if s := *r.Score; math.IsNaN(s) || s < 0 || s > 1 {
		return reject("score", "out_of_range", "score must be between 0 and 1")
	}
	c.score = *r.Score
	if len(r.Rule) > 200 {
		return reject("rule", "too_long", "rule is longer than 200 characters")
	}
	if r.DetectedAt == "" {
		return reject("detected_at", "required", "detected_at is required")
	}
	t, err := time.Parse(time.RFC3339Nano, r.DetectedAt)
	if err != nil {
		return reject("detected_at", "invalid_time", "detected_at must be an RFC 3339 time such as 2026-11-20T08:00:00Z")
	}
	if t.After(now.Add(24 * time.Hour)) {
		return reject("detected_at", "in_future", "detected_at is in the future")
	}
	c.detectedAt = t.UTC()
	if r.Shop == nil {
		return reject("shop", "required", "shop is required")
	}
	switch {
	case strings.TrimSpace(r.Shop.Platform) == "":
		return reject("shop.platform", "required", "shop.platform is required")
	case len(r.Shop.Platform) > 50:
		return reject("shop.platform", "too_long", "shop.platform is longer than 50 characters")
	case strings.TrimSpace(r.Shop.ID) == "":
		return reject("shop.id", "required", "shop.id is required")
	case len(r.Shop.ID) > 200:
		return reject("shop.id", "too_long", "shop.id is longer than 200 characters")
	case utf8.RuneCountInString(r.Shop.Name) > 300:
		return reject("shop.name", "too_long", "shop.name is longer than 300 characters")
	case utf8.RuneCountInString(r.Shop.Owner) > 300:
		return reject("shop.owner", "too_long", "shop.owner is longer than 300 characters")
	}
	if ids := r.Shop.Identifiers; len(ids) > 0 {
		if len(ids) > MaxIdentifiers {
			return reject("shop.identifiers", "too_many", "shop.identifiers holds more than "+strconv.Itoa(MaxIdentifiers)+" identifiers")
		}
		if key == nil {
			return reject("shop.identifiers", "not_accepted", "this server is not set up to take shop identifiers")
		}
		for k, id := range ids {
			at := "shop.identifiers[" + strconv.Itoa(k) + "]"
			kind, err := network.ParseKind(id.Kind)
			if err != nil {
				return reject(at+".kind", "unknown_kind", at+".kind must be one of "+kindNames())
			}
			made, err := memo.make(key, kind, id.Value)
			if err != nil {
				return reject(at+".value", err.Error(), identifierProblem(at+".value", err))
			}
			c.ids = append(c.ids, made)
		}
	}
	if l := r.Listing; l != nil {
		switch {
		case strings.TrimSpace(l.ID) == "":
			return reject("listing.id", "required", "listing.id is required when a listing is given")
		case len(l.ID) > 200:
			return reject("listing.id", "too_long", "listing.id is longer than 200 characters")
		case utf8.RuneCountInString(l.Title) > 500:
			return reject("listing.title", "too_long", "listing.title is longer than 500 characters")
		case len(l.URL) > 2000:
			return reject("listing.url", "too_long", "listing.url is longer than 2000 characters")
		}
		if l.URL != "" {
			u, err := url.Parse(l.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return reject("listing.url", "invalid_url", "listing.url must be an http or https URL")
			}
		}
		if l.Price != "" {
			// The API is strict: no blanks around the amount.
			p, ok := valid.Amount(l.Price)
			if !ok || strings.TrimSpace(l.Price) != l.Price {
				return reject("listing.price", "invalid_price", "listing.price must be a decimal amount such as 199.00")
			}
			if !valid.Currency(l.Currency) {
				return reject("listing.currency", "invalid_currency", "listing.currency must be an ISO 4217 code such as CNY when a price is given")
			}
			c.priceMinor = &p
		} else if l.Currency != "" && !valid.Currency(l.Currency) {
			return reject("listing.currency", "invalid_currency", "listing.currency must be an ISO 4217 code such as CNY")
		}
	}
	return c, nil
}

func kindNames() string {
	names := make([]string, len(network.Kinds))
	for i, k := range network.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// identifierProblem is the rejection's message for a bad value at field.
func identifierProblem(field string, err error) string {
	switch {
	case errors.Is(err, network.ErrEmpty):
		return field + " is required"
	case errors.Is(err, network.ErrTooLong):
		return field + " is longer than " + strconv.Itoa(network.MaxValue) + " bytes"
	case errors.Is(err, network.ErrPhone):
		return field + " is not a phone number (a Chinese number, or one with its +country code)"
	case errors.Is(err, network.ErrImageHash):
		return field + " must be a 64-bit perceptual hash as 16 hex digits"
	}
	return field + " is not valid"
}

// identifierMemo makes each distinct identifier of a batch once: a shop's
// identifiers come with each of its flags, and normalising a phone number
// is the dearest step of ingestion.
type identifierMemo map[[2]string]network.Identifier

func (m identifierMemo) make(key network.Key, kind network.Kind, value string) (network.Identifier, error) {
	k := [2]string{string(kind), value}
	if id, ok := m[k]; ok {
		return id, nil
	}
	id, err := key.Make(kind, value)
	if err == nil && m != nil {
		m[k] = id
	}
	return id, err
}

// maskedShop and maskedRecord are a record as kept with its flag when its
// shop carries identifiers: each value replaced by its masked form, so that
// no raw value is stored. (A record holds the contract's fields only: an
// unknown one is refused.)
type maskedShop struct {
	Platform    string             `json:"platform"`
	ID          string             `json:"id"`
	Name        string             `json:"name,omitempty"`
	Owner       string             `json:"owner,omitempty"`
	Identifiers []maskedIdentifier `json:"identifiers"`
}

type maskedIdentifier struct {
	Kind   network.Kind `json:"kind"`
	Masked string       `json:"masked"`
}

type maskedRecord struct {
	Record
	Shop maskedShop `json:"shop"` // shadows Record.Shop
}

func maskedPayload(c checked) string {
	m := maskedRecord{Record: c.rec, Shop: maskedShop{Platform: c.rec.Shop.Platform, ID: c.rec.Shop.ID, Name: c.rec.Shop.Name,
		Owner: c.rec.Shop.Owner, Identifiers: make([]maskedIdentifier, len(c.ids))}}
	for i, id := range c.ids {
		m.Shop.Identifiers[i] = maskedIdentifier{Kind: id.Kind, Masked: id.Masked}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}
