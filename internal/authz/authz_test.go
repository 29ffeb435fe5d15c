package authz

import (
	"testing"

	"spotcheck/internal/role"
)

var (
	admin     = Actor{UserID: 1, Role: role.Admin}
	staff     = Actor{UserID: 2, Role: role.Staff}
	volunteer = Actor{UserID: 3, Role: role.Volunteer}
	brandUser = Actor{UserID: 4, Role: role.Brand, BrandIDs: []int64{10}}
)

func TestCanPerActor(t *testing.T) {
	type row struct {
		action  Action
		subject Subject
		want    map[string]bool
	}
	actors := map[string]Actor{"anonymous": Anonymous, "admin": admin, "staff": staff, "volunteer": volunteer, "brand": brandUser}
	rows := []row{
		{ManageUsers, Subject{}, map[string]bool{"admin": true}},
		{ManageBrands, Subject{}, map[string]bool{"admin": true}},
		{ViewMetrics, Subject{}, map[string]bool{"admin": true}},
		{ViewCases, Subject{}, map[string]bool{"admin": true, "staff": true}},
		{ViewAssignments, Subject{}, map[string]bool{"volunteer": true}},
		{ViewAuthQueue, Subject{}, map[string]bool{"brand": true}},
		{ViewAuthQueue, Subject{BrandID: 10}, map[string]bool{"brand": true}},
		{ViewAuthQueue, Subject{BrandID: 11}, map[string]bool{}},
		{ChangeOwnPassword, Subject{Kind: "user", OwnerID: 3}, map[string]bool{"volunteer": true}},
		{Action("no.such.action"), Subject{}, map[string]bool{}},
		{ReopenCase, Subject{Kind: "case", BrandID: 10}, map[string]bool{"admin": true}},
		{ManageTokens, Subject{}, map[string]bool{"admin": true}},
		{ManageDeadlines, Subject{}, map[string]bool{"admin": true}},
		{TriageFlags, Subject{}, map[string]bool{"admin": true, "staff": true}},
		{ImportFlags, Subject{}, map[string]bool{"admin": true, "staff": true}},
		{LinkShops, Subject{Kind: "shop"}, map[string]bool{"admin": true, "staff": true}},
		{ExportCases, Subject{}, map[string]bool{"admin": true, "staff": true}},
		// Cases: brand users and volunteers get no case access here, not
		// even for their own brand (their portals come with later work).
		{ViewCase, Subject{Kind: "case", BrandID: 10}, map[string]bool{"admin": true, "staff": true}},
		{DismissCase, Subject{Kind: "case", BrandID: 10}, map[string]bool{"admin": true, "staff": true}},
		{CommentCase, Subject{Kind: "case", BrandID: 10}, map[string]bool{"admin": true, "staff": true}},
		{AssignCase, Subject{Kind: "case", BrandID: 10}, map[string]bool{"admin": true, "staff": true}},
		// Test purchases: volunteers act only on their own (OwnerID 3).
		{ManageVolunteers, Subject{}, map[string]bool{"admin": true, "staff": true}},
		{OrderPurchase, Subject{Kind: "case", BrandID: 10}, map[string]bool{"admin": true, "staff": true}},
		{CancelPurchase, Subject{Kind: "case", BrandID: 10}, map[string]bool{"admin": true, "staff": true}},
		{ApproveReimbursement, Subject{}, map[string]bool{"admin": true, "staff": true}},
		{SendToBrand, Subject{Kind: "case", BrandID: 10, OwnerID: 3}, map[string]bool{"admin": true, "staff": true, "volunteer": true}},
		{SendToBrand, Subject{Kind: "case", BrandID: 10, OwnerID: 99}, map[string]bool{"admin": true, "staff": true}},
		{ViewPurchase, Subject{Kind: "purchase", OwnerID: 3}, map[string]bool{"admin": true, "staff": true, "volunteer": true}},
		{ViewPurchase, Subject{Kind: "purchase", OwnerID: 99}, map[string]bool{"admin": true, "staff": true}},
		{RecordPurchase, Subject{Kind: "purchase", OwnerID: 3}, map[string]bool{"volunteer": true}},
		{RecordPurchase, Subject{Kind: "purchase", OwnerID: 99}, map[string]bool{}},
		{ViewReimbursements, Subject{}, map[string]bool{"volunteer": true}},
		{UploadEvidence, Subject{Kind: "purchase", OwnerID: 3}, map[string]bool{"admin": true, "staff": true, "volunteer": true}},
		{UploadEvidence, Subject{Kind: "purchase", OwnerID: 99}, map[string]bool{"admin": true, "staff": true}},
		{ViewEvidence, Subject{Kind: "evidence", BrandID: 10, OwnerID: 3}, map[string]bool{"admin": true, "staff": true, "volunteer": true}},
		{ViewEvidence, Subject{Kind: "evidence", BrandID: 10, OwnerID: 99}, map[string]bool{"admin": true, "staff": true}},
		{ViewEvidence, Subject{Kind: "evidence", BrandID: 10, Shared: true}, map[string]bool{"admin": true, "staff": true, "brand": true}},
		{ViewEvidence, Subject{Kind: "evidence", BrandID: 11, Shared: true}, map[string]bool{"admin": true, "staff": true}},
		{ViewOriginal, Subject{Kind: "evidence", BrandID: 10, OwnerID: 3, Shared: true}, map[string]bool{"admin": true, "staff": true, "volunteer": true}},
		{ViewOriginal, Subject{Kind: "evidence", BrandID: 10, OwnerID: 99, Shared: true}, map[string]bool{"admin": true, "staff": true}},
		{WithdrawEvidence, Subject{Kind: "evidence", OwnerID: 3}, map[string]bool{"admin": true, "staff": true, "volunteer": true}},
		{HandleCustody, Subject{Kind: CustodyStaff}, map[string]bool{"admin": true, "staff": true}},
		{HandleCustody, Subject{Kind: CustodyVolunteer, OwnerID: 3}, map[string]bool{"volunteer": true}},
		{HandleCustody, Subject{Kind: CustodyVolunteer, OwnerID: 99}, map[string]bool{}},
		{HandleCustody, Subject{Kind: CustodyBrand, BrandID: 10}, map[string]bool{"brand": true}},
		{HandleCustody, Subject{Kind: CustodyBrand, BrandID: 11}, map[string]bool{}},
		{HandleCustody, Subject{Kind: "custody.nobody"}, map[string]bool{}},
		{ViewBrandCase, Subject{Kind: "case", BrandID: 10, Shared: true}, map[string]bool{"brand": true}},
		{ViewBrandCase, Subject{Kind: "case", BrandID: 10}, map[string]bool{}},
		{ViewBrandCase, Subject{Kind: "case", BrandID: 11, Shared: true}, map[string]bool{}},
		{SubmitVerdict, Subject{Kind: "case", BrandID: 10}, map[string]bool{"brand": true}},
		{SubmitVerdict, Subject{Kind: "case", BrandID: 11}, map[string]bool{}},
		{Enforce, Subject{Kind: "case", BrandID: 10}, map[string]bool{"admin": true, "staff": true}},
		{ReportListing, Subject{Kind: "brand", BrandID: 10}, map[string]bool{"brand": true}},
		{ReportListing, Subject{Kind: "brand", BrandID: 11}, map[string]bool{}},
	}
	for _, r := range rows {
		for name, a := range actors {
			t.Run(string(r.action)+"/"+name, func(t *testing.T) {
				if got := Can(a, r.action, r.subject); got != r.want[name] {
					t.Fatalf("Can(%s, %s, %+v) = %v, want %v", name, r.action, r.subject, got, r.want[name])
				}
			})
		}
	}
}

func TestEveryRoleHasAHome(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range role.All {
		h := Home(Actor{UserID: 1, Role: r})
		if h == "/login" || seen[h] {
			t.Errorf("role %s home %q", r, h)
		}
		seen[h] = true
	}
}
