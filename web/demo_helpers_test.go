package web_test

import (
	"testing"

	"spotcheck/internal/demo"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/job"
	"spotcheck/internal/verdict"
)

// loadDemo loads the demo data set (internal/demo, what `make run` shows)
// into a's database through the real use cases, its accounts signing in
// with testPassword: every screen then has real content, a case that has
// travelled the whole road (purchase, delivery, verdict, referral, raid,
// claim) among them. volume, when given, is the department-size volume to
// add (demo.Deps.Volume); without it the story alone.
func (a *app) loadDemo(t testing.TB, volume ...int) demo.Result {
	t.Helper()
	jobs, err := job.New(a.db, job.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := demo.Load(t.Context(), demo.Deps{DB: a.db, Location: a.zone, Users: a.users, Brands: a.brands,
		Cases: a.cases, Flags: a.flags, Shops: a.shops, Purchases: a.purchase, Evidence: a.evidence,
		Verdicts: verdict.NewService(a.db, jobs), Enforcement: enforcement.NewService(a.db, jobs, enforcement.DefaultThresholds, a.zone),
		Jobs: jobs, Volume: append(volume, 0)[0]}, testPassword, t.TempDir())
	if err != nil {
		t.Fatalf("load the demo data: %v", err)
	}
	return res
}

// asDemo returns a client signed in as the demo account with e-mail email,
// asking for pages in lang (an Accept-Language value).
func (a *app) asDemo(email, lang string) *client {
	c := a.client()
	c.header.Set("Accept-Language", lang)
	if res := c.signIn(email, testPassword); res.StatusCode != 303 {
		a.t.Fatalf("sign-in as %s: %d\n%.400s", email, res.StatusCode, res.body)
	}
	return c
}
