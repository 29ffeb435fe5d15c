// Package authz is Spotcheck's one authorization policy: it answers "may
// this actor do this action to this subject?". Handlers, middleware and use
// cases all ask it; no other package decides access. It imports no area
// package: areas describe their objects to it as a Subject.
package authz

import (
	"slices"

	"spotcheck/internal/role"
)

// Actor is the signed-in user as the policy sees them.
type Actor struct {
	UserID   int64
	Role     role.Role
	BrandIDs []int64 // brand users: the brands they are bound to
}

// Anonymous is nobody signed in.
var Anonymous = Actor{}

// SignedIn reports whether a is a real user.
func (a Actor) SignedIn() bool { return a.UserID != 0 && !a.Role.IsZero() }

// HasBrand reports whether a brand user is bound to brand id.
func (a Actor) HasBrand(id int64) bool { return slices.Contains(a.BrandIDs, id) }

// Action is something an actor may try to do.
type Action string

const (
	ManageUsers       Action = "users.manage"  // list, create, disable users; reset passwords
	ManageBrands      Action = "brands.manage" // create brands, bind brand users
	ChangeOwnPassword Action = "account.password"
	ViewCases         Action = "cases.view"       // the case list (scoped by Scope for brands)
	ViewAssignments   Action = "assignments.view" // a volunteer's own purchase assignments
	ViewAuthQueue     Action = "authqueue.view"   // a brand's items awaiting authentication
	ViewMetrics       Action = "metrics.view"

	ViewCase     Action = "case.view"
	CommentCase  Action = "case.comment"
	AssignCase   Action = "case.assign"
	DismissCase  Action = "case.dismiss"
	ReopenCase   Action = "case.reopen"
	ExportCases  Action = "cases.export"
	TriageFlags  Action = "flags.triage" // the inbox: open a case, attach, dismiss
	ImportFlags  Action = "flags.import" // CSV upload of flags
	ViewShop     Action = "shop.view"
	LinkShops    Action = "shop.link"
	ManageTokens Action = "tokens.manage" // API tokens of the risk systems
	// ManageDeadlines: how long each kind of step may take, and when
	// reminders and escalations go out.
	ManageDeadlines Action = "deadlines.manage"

	ManageVolunteers     Action = "volunteers.manage"     // the pool: profiles, personas, pausing, burning
	OrderPurchase        Action = "purchase.order"        // flagged → purchasing, with a volunteer and a budget
	CancelPurchase       Action = "purchase.cancel"       // purchasing → flagged
	SendToBrand          Action = "case.send_to_brand"    // purchasing → authenticating
	ViewPurchase         Action = "purchase.view"         // staff, and the purchase's own volunteer
	RecordPurchase       Action = "purchase.record"       // the volunteer's steps: order, delivery, dispatch
	ViewReimbursements   Action = "reimbursements.view"   // a volunteer's own
	ApproveReimbursement Action = "reimbursement.approve" // staff: approve, mark paid
	UploadEvidence       Action = "evidence.upload"       // staff; a volunteer on their own purchase
	ViewEvidence         Action = "evidence.view"         // staff; the purchase's volunteer; a brand user when shared
	ViewOriginal         Action = "evidence.original"     // the file as received, metadata and all: staff; the purchase's own volunteer
	WithdrawEvidence     Action = "evidence.withdraw"     // staff; the uploader
	HandleCustody        Action = "custody.handle"        // release or accept an item for a party
	ViewBrandCase        Action = "brandcase.view"        // a brand user's view of a case whose item reached the brand
	SubmitVerdict        Action = "verdict.submit"        // a brand user authenticates an item of their brand
	Enforce              Action = "case.enforce"          // staff: police referral, raids, claims, closing
	ReportListing        Action = "listing.report"        // a brand user reports a suspect listing of their brand
)

// Custody parties, as Subject kinds for HandleCustody: the actor must act
// for the party (be staff, be that volunteer, belong to that brand).
const (
	CustodyStaff     = "custody.staff"
	CustodyVolunteer = "custody.volunteer"
	CustodyBrand     = "custody.brand"
)

// Subject is the object an action is aimed at, described by its owner.
// The zero Subject means "no particular object" (a screen or a list).
type Subject struct {
	Kind    string
	OwnerID int64 // the user the object belongs to (for own-account actions)
	BrandID int64 // the brand the object concerns, if any
	// Shared: evidence that is brand-visible on an item already on its way
	// to, or with, the brand; a case whose item has reached the brand.
	Shared bool
}

// Can reports whether actor may do action to subject.
func Can(a Actor, action Action, s Subject) bool {
	if !a.SignedIn() {
		return false
	}
	switch action {
	case ManageUsers, ManageBrands, ViewMetrics, ManageTokens, ReopenCase, ManageDeadlines:
		return a.Role == role.Admin
	case ViewCase, CommentCase, AssignCase, DismissCase, ExportCases, TriageFlags, ImportFlags, ViewShop, LinkShops:
		return staffLike(a)
	case ChangeOwnPassword:
		return s.OwnerID == a.UserID
	case ViewCases:
		return a.Role == role.Admin || a.Role == role.Staff
	case ViewAssignments:
		return a.Role == role.Volunteer
	case ViewAuthQueue:
		return a.Role == role.Brand && (s.BrandID == 0 || a.HasBrand(s.BrandID))
	case ManageVolunteers, OrderPurchase, CancelPurchase, ApproveReimbursement, Enforce:
		return staffLike(a)
	case SendToBrand, ViewPurchase, UploadEvidence, WithdrawEvidence, ViewOriginal:
		return staffLike(a) || ownVolunteer(a, s)
	case RecordPurchase:
		return ownVolunteer(a, s)
	case ViewReimbursements:
		return a.Role == role.Volunteer
	case ViewEvidence:
		return staffLike(a) || ownVolunteer(a, s) || (a.Role == role.Brand && s.Shared && a.HasBrand(s.BrandID))
	case ViewBrandCase:
		return a.Role == role.Brand && s.Shared && a.HasBrand(s.BrandID)
	case SubmitVerdict, ReportListing:
		return a.Role == role.Brand && a.HasBrand(s.BrandID)
	case HandleCustody:
		switch s.Kind {
		case CustodyStaff:
			return staffLike(a)
		case CustodyVolunteer:
			return ownVolunteer(a, s)
		case CustodyBrand:
			return a.Role == role.Brand && a.HasBrand(s.BrandID)
		}
	}
	return false
}

// ownVolunteer: a volunteer acting on their own purchase (OwnerID is the
// purchase's volunteer).
func ownVolunteer(a Actor, s Subject) bool { return a.Role == role.Volunteer && s.OwnerID == a.UserID }

// staffLike: governance staff, and admins, who may do all staff work.
func staffLike(a Actor) bool { return a.Role == role.Staff || a.Role == role.Admin }

// Home is the screen each role lands on after signing in.
func Home(a Actor) string {
	switch a.Role {
	case role.Admin:
		return "/admin/users"
	case role.Staff:
		return "/dashboard"
	case role.Volunteer:
		return "/assignments"
	case role.Brand:
		return "/authentications"
	}
	return "/login"
}
