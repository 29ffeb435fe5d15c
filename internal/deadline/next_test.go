package deadline_test

import (
	"slices"
	"testing"
	"time"

	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/deadline"
	"spotcheck/internal/role"
)

// TestEachSideSeesOnlyItsOwnNextSteps: on the same two cases, a volunteer
// gets their own open steps, a brand user their brand's, a user of another
// brand and staff nothing — the other party's steps stay with staff.
func TestEachSideSeesOnlyItsOwnNextSteps(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		worked, unworked := seed(t, db, time.Now().UTC())
		svc := deadline.NewService(db)
		both := []int64{worked.ID, unworked.ID}
		for _, tc := range []struct {
			name  string
			actor authz.Actor
			cases []int64
			want  []deadline.Kind
		}{
			{"the volunteer", authz.Actor{UserID: volunteer, Role: role.Volunteer}, both, []deadline.Kind{deadline.Delivery, deadline.Order}},
			{"the volunteer, one case shown", authz.Actor{UserID: volunteer, Role: role.Volunteer}, []int64{unworked.ID}, []deadline.Kind{deadline.Delivery}},
			{"another volunteer", authz.Actor{UserID: 99, Role: role.Volunteer}, both, nil},
			{"the brand", authz.Actor{UserID: brandUser, Role: role.Brand, BrandIDs: []int64{1}}, both, []deadline.Kind{deadline.Verdict}},
			{"another brand", authz.Actor{UserID: brandUser, Role: role.Brand, BrandIDs: []int64{2}}, both, nil},
			{"staff", authz.Actor{UserID: investigator, Role: role.Staff}, both, nil},
		} {
			ds, err := svc.Next(t.Context(), tc.actor, tc.cases)
			if err != nil {
				t.Fatal(err)
			}
			var got []deadline.Kind
			for _, d := range ds {
				got = append(got, d.Kind)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s gets %v, want %v", tc.name, got, tc.want)
			}
		}
	})
}
