package bundle

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"spotcheck/internal/audit"
	"spotcheck/internal/casework"
	"spotcheck/internal/role"
)

// auditLine is one line of an unredacted audit.jsonl: the event exactly
// as stored, hashes included, so that each can be checked against the
// chain.
type auditLine struct {
	Seq        int64  `json:"seq"`
	At         string `json:"at"`
	ActorID    *int64 `json:"actor_id"`
	ActorRole  string `json:"actor_role"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	Outcome    string `json:"outcome"`
	ClientIP   string `json:"client_ip"`
	RequestID  string `json:"request_id"`
	Detail     string `json:"detail"` // the stored JSON text, unchanged
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
}

// extractLine is one line of a redacted audit.jsonl: what happened, when,
// to what and with what outcome; the actor by role (a buyer also by their
// pseudonym on the case); the detail fields the action's allow-list names;
// and the event's hashes as stored. The line cannot be rehashed (the
// removed fields are part of the hash), but its hash is the stored event's:
// the platform can show the full event, and the manifest's audit head ties
// the chain the hashes belong to.
type extractLine struct {
	Seq            int64                      `json:"seq"`
	At             string                     `json:"at"`
	ActorRole      string                     `json:"actor_role"`
	ActorPseudonym string                     `json:"actor_pseudonym,omitempty"`
	Action         string                     `json:"action"`
	ObjectType     string                     `json:"object_type"`
	ObjectID       string                     `json:"object_id"`
	Outcome        string                     `json:"outcome"`
	Detail         map[string]json.RawMessage `json:"detail"`
	PrevHash       string                     `json:"prev_hash"`
	Hash           string                     `json:"hash"`
}

// extractFields lists, per action, the detail fields a redacted bundle
// keeps. It is an allow-list: a field not named here — a new one too —
// stays out, and so does every field of an action not named here. Out on
// purpose: volunteer, persona and actor ids, order numbers, tracking
// numbers, the carrier and seal of the seller's parcel to the buyer,
// places, file names and keys, and text people typed (notes, reasons,
// comments).
var extractFields = func() map[string][]string {
	m := map[string][]string{
		"case.assign":      {},
		"case.comment":     {"length"},
		"case.open_linked": {"from", "shop_id"},
		"flags.attach":     {"flags"},

		"purchase.order":           {"case", "budget_minor", "currency", "due_on"},
		"purchase.record_order":    {"case", "amount_paid_minor", "fee_minor"},
		"purchase.record_delivery": {"case", "delivered_on"},
		"purchase.dispatch":        {"case", "to", "carrier"},
		"purchase.cancel":          {"case"},
		"custody.receive":          {"seq", "from", "to"},
		"custody.release":          {"seq", "from", "to", "method", "carrier", "seal"},
		"custody.accept":           {"seq", "from", "to", "method", "carrier", "seal", "seal_intact", "condition"},
		"reimbursement.approved":   {"purchase_id", "total_minor", "currency"},
		"reimbursement.paid":       {"purchase_id", "total_minor", "currency"},

		"evidence.upload":             {"case", "kind", "sha256", "size", "content_type", "visibility", "purchase_id", "custody_event_id"},
		"evidence.withdraw":           {"case", "kind", "sha256"},
		"evidence.derive":             {"transform", "description", "original_sha256", "sha256", "size", "content_type", "width", "height"},
		"evidence.integrity_fault":    {"expected", "found", "size", "found_size"},
		"evidence.integrity_restored": {"sha256", "fault_at"},

		"verdict.submit":    {"verdict_id", "item_id", "result", "failed", "signed_name", "supersedes"},
		"referral.create":   {"bureau", "district", "letter_number", "referred_on"},
		"referral.progress": {"from", "to", "police_case_number"},
		"raid.record":       {"raid_id", "raided_on", "place", "arrests", "estimated_sales_minor", "seizure_lines"},
		"claim.file":        {"court", "court_case_number", "basis", "claim_minor"},
		"claim.judgment":    {"amount_minor", "on"},
		"claim.settlement":  {"amount_minor", "on"},
		"claim.hearing":     {"held_on"},
		"claim.payment":     {"amount_minor", "received_on"},

		"bundle.request":    {"bundle_id", "lang", "kind"},
		"bundle.unredacted": {"bundle_id", "lang"},
		"bundle.built":      {"bundle_id", "kind", "sha256", "size"},
		"bundle.write":      {"kind", "sha256", "members", "lang", "audit_head"},
	}
	for _, t := range casework.Table { // case transitions: the states, not the note
		m["case."+string(t.Event)] = []string{"from", "to", "close_reason", "version"}
	}
	return m
}()

func writeAudit(w io.Writer, rec record) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range rec.Audit {
		var line any = auditLine{Seq: e.Seq, At: stamp(e.At), ActorID: e.ActorID, ActorRole: e.ActorRole, Action: e.Action,
			ObjectType: e.ObjectType, ObjectID: e.ObjectID, Outcome: e.Outcome, ClientIP: e.ClientIP, RequestID: e.RequestID,
			Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash}
		if rec.Kind != Unredacted {
			line = extract(e, rec.Pseudonyms)
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("bundle audit: %w", err)
		}
	}
	return nil
}

// extract is the redacted line of event e; pseudonyms are the case's
// buyers'.
func extract(e audit.Event, pseudonyms map[int64]string) extractLine {
	l := extractLine{Seq: e.Seq, At: stamp(e.At), ActorRole: e.ActorRole, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, Outcome: e.Outcome, Detail: map[string]json.RawMessage{}, PrevHash: e.PrevHash, Hash: e.Hash}
	if e.ActorRole == role.Volunteer.String() && e.ActorID != nil {
		l.ActorPseudonym = pseudonyms[*e.ActorID]
	}
	var detail map[string]json.RawMessage
	if json.Unmarshal([]byte(e.Detail), &detail) != nil {
		return l // not an object: nothing is known to be safe
	}
	for _, k := range extractFields[e.Action] {
		if v, ok := detail[k]; ok {
			l.Detail[k] = v
		}
	}
	return l
}

func stamp(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano) }
