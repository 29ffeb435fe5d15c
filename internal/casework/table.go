package casework

import (
	"slices"

	"spotcheck/internal/authz"
)

// Event is something that moves a case.
type Event string

const (
	Dismiss        Event = "dismiss"
	Reopen         Event = "reopen"
	OrderPurchase  Event = "order_purchase"
	CancelPurchase Event = "cancel_purchase"
	SendToBrand    Event = "send_to_brand"
	// A brand's verdict. From confirmed, a new verdict supersedes the last
	// one before enforcement starts.
	VerdictCounterfeit  Event = "verdict_counterfeit"
	VerdictGenuine      Event = "verdict_genuine"
	VerdictInconclusive Event = "verdict_inconclusive"
	// Enforcement.
	ReferToPolice       Event = "refer_to_police"
	ClosePlatformAction Event = "close_platform_action_only"
	CloseEnforced       Event = "close_enforced"
	// The civil claim.
	FileClaim      Event = "file_claim"
	RecordJudgment Event = "record_judgment"
	Settle         Event = "settle"
)

// Transition is one row of the table: from which states an event fires,
// where it leads, what the policy must allow, and what it needs.
type Transition struct {
	Event       Event
	From        []State
	To          State
	CloseReason CloseReason  // set when To is Closed
	Action      authz.Action // asked of the policy for this actor and case
	NeedsNote   bool         // a reason must be given
	// Via names the use case that fires this row with what it needs (a
	// purchase order, a dispatch), and that checks its guard. Such rows
	// cannot be fired by the plain transition endpoint; the case page
	// offers them in their own form.
	Via string
}

// Table is the case road. Later work adds the purchase, verdict and
// enforcement rows here; nothing else decides which transitions exist.
var Table = []Transition{
	{Event: Dismiss, From: []State{Flagged}, To: Closed, CloseReason: Dismissed, Action: authz.DismissCase, NeedsNote: true},
	{Event: Reopen, From: []State{Closed}, To: Flagged, Action: authz.ReopenCase, NeedsNote: true},
	// Guard (purchase): a volunteer and persona without a rotation
	// conflict, a budget, a due date.
	{Event: OrderPurchase, From: []State{Flagged}, To: Purchasing, Action: authz.OrderPurchase, Via: "purchase"},
	{Event: CancelPurchase, From: []State{Purchasing}, To: Flagged, Action: authz.CancelPurchase, NeedsNote: true, Via: "purchase"},
	// Guard (purchase): order recorded with receipt evidence, delivery
	// with parcel photos, the item on its way to or with the brand.
	{Event: SendToBrand, From: []State{Purchasing}, To: Authenticating, Action: authz.SendToBrand, Via: "purchase"},
	// Guard (verdict): the item with the brand, a signed verdict; a
	// counterfeit one with at least one failed check and a report or notes.
	{Event: VerdictCounterfeit, From: []State{Authenticating, Confirmed}, To: Confirmed, Action: authz.SubmitVerdict, Via: "verdict"},
	{Event: VerdictGenuine, From: []State{Authenticating, Confirmed}, To: Closed, CloseReason: Genuine, Action: authz.SubmitVerdict, Via: "verdict"},
	{Event: VerdictInconclusive, From: []State{Authenticating, Confirmed}, To: Flagged, Action: authz.SubmitVerdict, Via: "verdict"},
	// Guard (enforcement): an evidence bundle built after the verdict in force.
	{Event: ReferToPolice, From: []State{Confirmed}, To: Referred, Action: authz.Enforce, Via: "referral"},
	{Event: ClosePlatformAction, From: []State{Confirmed, Referred}, To: Closed, CloseReason: PlatformActionOnly, Action: authz.Enforce, NeedsNote: true},
	{Event: CloseEnforced, From: []State{Confirmed, Referred}, To: Closed, CloseReason: Enforced, Action: authz.Enforce, NeedsNote: true},
	// Guard (claim): court, filing date, basis, claim amount; then the
	// judgment's or the settlement's amount.
	{Event: FileClaim, From: []State{Confirmed, Referred}, To: Litigating, Action: authz.Enforce, Via: "claim"},
	{Event: RecordJudgment, From: []State{Litigating}, To: Closed, CloseReason: Recovered, Action: authz.Enforce, Via: "claim"},
	{Event: Settle, From: []State{Litigating}, To: Closed, CloseReason: Recovered, Action: authz.Enforce, Via: "claim"},
}

// Lookup returns the row for event fired from state, if there is one.
func Lookup(from State, ev Event) (Transition, bool) {
	for _, t := range Table {
		if t.Event == ev && slices.Contains(t.From, from) {
			return t, true
		}
	}
	return Transition{}, false
}

// Available lists the transitions actor may fire on a case now: the rows
// whose From holds the case's state and whose action the policy allows.
func Available(actor authz.Actor, c Case) []Transition {
	var out []Transition
	for _, t := range Table {
		if slices.Contains(t.From, c.State) && authz.Can(actor, t.Action, c.Subject()) {
			out = append(out, t)
		}
	}
	return out
}

// ParseEvent returns the event a text names, if the table has it.
func ParseEvent(s string) (Event, bool) {
	for _, t := range Table {
		if string(t.Event) == s {
			return t.Event, true
		}
	}
	return "", false
}

// ClosingReasons are the reasons a row of the table closes cases for, in
// table order: the ones the road can reach (CloseReasons lists more).
func ClosingReasons() []CloseReason {
	var out []CloseReason
	for _, t := range Table {
		if t.To == Closed && !slices.Contains(out, t.CloseReason) {
			out = append(out, t.CloseReason)
		}
	}
	return out
}
