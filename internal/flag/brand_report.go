package flag

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"spotcheck/internal/authz"
	"spotcheck/internal/valid"
)

// BrandReport is a suspect listing reported by a brand user: it becomes a
// flag with source "brand" that waits in the staff's inbox.
type BrandReport struct {
	BrandID      int64
	BrandName    string
	Platform     string
	ShopID       string
	ShopName     string
	ListingURL   string
	ListingTitle string
	Reason       string
}

// brandReportScore puts a brand's report in the inbox (below the default
// auto-open threshold): staff decide on a case.
const brandReportScore = 0.7

// ReportListing records a brand user's report through the same ingestion
// as the risk systems' flags (the same checks, shops, listings, grouping),
// but on the brandReports channel: it never changes a known shop or listing.
func (s *Service) ReportListing(ctx context.Context, actor authz.Actor, r BrandReport) error {
	if !authz.Can(actor, authz.ReportListing, authz.Subject{Kind: "brand", BrandID: r.BrandID}) {
		return valid.Errors{"brand": "error.required"}
	}
	r.Reason = strings.TrimSpace(r.Reason)
	switch {
	case strings.TrimSpace(r.ListingURL) == "":
		return valid.Errors{"listing_url": "error.required"}
	case r.Reason == "":
		return valid.Errors{"reason": "error.reason_required"}
	case len([]rune(r.Reason)) > 180:
		return valid.Errors{"reason": "error.too_long"}
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(r.ListingURL)))
	score := brandReportScore
	rec := Record{Source: "brand", ExternalID: fmt.Sprintf("brand-%d-%d", actor.UserID, time.Now().UnixNano()),
		Brand: r.BrandName, Score: &score, Rule: "brand report: " + r.Reason, DetectedAt: s.db.Now().Format(time.RFC3339),
		Shop: &ShopRecord{Platform: strings.TrimSpace(r.Platform), ID: strings.TrimSpace(r.ShopID), Name: strings.TrimSpace(r.ShopName)},
		Listing: &ListingRecord{ID: "url-" + hex.EncodeToString(sum[:8]), URL: strings.TrimSpace(r.ListingURL),
			Title: strings.TrimSpace(r.ListingTitle)}}
	res, err := s.ingest(ctx, actor, brandReports, []Record{rec}, nil, nil)
	if err != nil {
		return err
	}
	if len(res.Rejected) > 0 {
		// The contract's field names map onto the form's.
		field := map[string]string{"shop.platform": "platform", "shop.id": "shop_id", "shop.name": "shop_name",
			"listing.url": "listing_url", "listing.title": "listing_title"}[res.Rejected[0].Field]
		if field == "" {
			field = "listing_url"
		}
		return valid.Errors{field: "error.report_invalid"}
	}
	return nil
}
