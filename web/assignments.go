package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/clock"
	"spotcheck/internal/deadline"
	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
	"spotcheck/internal/stats"
	"spotcheck/web/view/page"
)

const ctxAssignment = "spotcheck.assignment"

// assignments is the volunteer home: their own purchases, newest first.
func (s *Server) assignments(c echo.Context) error {
	ctx := c.Request().Context()
	as, err := s.Purchases.Mine(ctx, actorOf(c))
	if err != nil {
		return err
	}
	ids := make([]int64, len(as))
	for i, a := range as {
		ids[i] = a.CaseID
	}
	ds, err := s.Deadlines.Next(ctx, actorOf(c), ids)
	if err != nil {
		return err
	}
	next := s.firstDue(ds, func(d deadline.Deadline) int64 { return d.SubjectID }) // a volunteer's steps are on their purchase
	rs, err := s.Purchases.MyReimbursements(ctx, actorOf(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page.Assignments(as, next, s.volunteerSummary(as, ds, rs)))
}

// volunteerSummary is the top of the volunteer's home: the step due next
// of all their purchases, how many they ordered this month (a calendar
// month in the platform's zone), and what they are owed and were paid
// this month.
func (s *Server) volunteerSummary(as []purchase.Assignment, ds []deadline.Deadline, rs []purchase.MyReimbursement) page.VolunteerSummary {
	now := s.Clock.Now()
	today := clock.DateOf(now, s.Config.Location)
	month := func(d clock.Date) bool { return d.Year == today.Year && d.Month == today.Month }
	var v page.VolunteerSummary
	for _, d := range ds { // Next gives them soonest first
		if d.DoneAt == nil {
			row := deadlineRow(d, now)
			v.Next = &row
			break
		}
	}
	for _, a := range as {
		if a.OrderDate != nil && month(clock.DateOf(*a.OrderDate, time.UTC)) { // a date, stored at midnight UTC
			v.Ordered++
		}
	}
	v.Currency = stats.Currency
	for _, r := range rs {
		switch {
		case r.Status != purchase.ReimbursementPaid:
			v.Pending++
			v.PendingMinor += r.Total()
		case r.PaidAt != nil && month(clock.DateOf(*r.PaidAt, s.Config.Location)):
			v.PaidMinor += r.Total()
		}
	}
	return v
}

// loadAssignment is the load-and-authorize middleware of
// /assignments/:id: another volunteer's purchase is not found.
func (s *Server) loadAssignment(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return echo.ErrNotFound
		}
		a, err := s.Purchases.Assignment(c.Request().Context(), actorOf(c), id)
		if err != nil {
			return err
		}
		c.Set(ctxAssignment, a)
		return next(c)
	}
}

func assignmentOf(c echo.Context) purchase.Assignment {
	return c.Get(ctxAssignment).(purchase.Assignment)
}

func (s *Server) showAssignment(c echo.Context) error {
	return s.renderAssignment(c, http.StatusOK, assignmentOf(c), page.StepForm{})
}

func (s *Server) renderAssignment(c echo.Context, status int, a purchase.Assignment, f page.StepForm) error {
	ctx := c.Request().Context()
	actor := actorOf(c)
	persona, err := s.Purchases.PersonaFor(ctx, actor, a.Purchase)
	if err != nil {
		return err
	}
	chain, hasItem, err := s.Purchases.ChainOf(ctx, a.ID)
	if err != nil {
		return err
	}
	mine, err := s.Sharing.PurchaseFiles(ctx, actor, a.ID, a.VolunteerID)
	if err != nil {
		return err
	}
	var files []page.EvidenceItem
	for _, e := range mine {
		files = append(files, evidenceItem(e, e.UploadedBy == actor.UserID))
	}
	p := page.AssignmentPage{A: a, Persona: persona, Files: files, Form: f, MaxUploadMB: s.Config.MaxUpload >> 20}
	if hasItem {
		p.Item = &chain.Item
		lines, err := s.custodyLines(c, chain)
		if err != nil {
			return err
		}
		p.Custody = lines[0]
	}
	if p.Reimbursement, err = s.Purchases.ReimbursementOf(ctx, a.ID); err != nil {
		return err
	}
	return s.render(c, status, page.Assignment(p))
}

// The three steps, and the return of a cancelled purchase's item. Each
// reads its form with the files streamed to blob storage, then runs one
// use case; on any refusal the stored files are discarded and the page
// comes back with what was typed.

func (s *Server) recordOrder(c echo.Context) error {
	return s.assignmentStep(c, "order", fixedKinds(map[string]evidence.Kind{"receipt": evidence.Receipt, "screenshot": evidence.Screenshot}),
		func(a purchase.Assignment, up upload) error {
			return s.Purchases.RecordOrder(c.Request().Context(), actorOf(c), a.ID, purchase.OrderStep{
				Version: atoi(up.Values.Get("version")), OrderNumber: up.Values.Get("order_number"),
				AmountPaid: up.Values.Get("amount_paid"), Fee: up.Values.Get("fee"), OrderDate: up.Values.Get("order_date")}, up.Files)
		}, "assignment.order_recorded")
}

func (s *Server) recordDelivery(c echo.Context) error {
	return s.assignmentStep(c, "delivery", fixedKinds(map[string]evidence.Kind{"parcel_photo": evidence.ParcelPhoto, "item_photo": evidence.ItemPhoto}),
		func(a purchase.Assignment, up upload) error {
			return s.Purchases.RecordDelivery(c.Request().Context(), actorOf(c), a.ID, purchase.DeliveryStep{
				Version: atoi(up.Values.Get("version")), DeliveredOn: up.Values.Get("delivered_on"),
				SealNumber: up.Values.Get("seal_number"), Carrier: up.Values.Get("carrier"), Tracking: up.Values.Get("tracking")}, up.Files)
		}, "assignment.delivery_recorded")
}

func (s *Server) dispatchItem(c echo.Context) error {
	return s.assignmentStep(c, "dispatch", fixedKinds(map[string]evidence.Kind{"item_photo": evidence.ItemPhoto}),
		func(a purchase.Assignment, up upload) error {
			return s.Purchases.Dispatch(c.Request().Context(), actorOf(c), a.ID, purchase.DispatchStep{
				Version: atoi(up.Values.Get("version")), To: up.Values.Get("to"), Carrier: up.Values.Get("carrier"),
				Tracking: up.Values.Get("tracking"), Seal: up.Values.Get("seal")}, up.Files)
		}, "assignment.dispatched")
}

// returnItem sends a cancelled purchase's item, still with the volunteer,
// back to staff.
func (s *Server) returnItem(c echo.Context) error {
	return s.assignmentStep(c, "return", fixedKinds(map[string]evidence.Kind{"item_photo": evidence.ItemPhoto}),
		func(a purchase.Assignment, up upload) error {
			return s.Purchases.ReturnToStaff(c.Request().Context(), actorOf(c), a.ID, purchase.ReturnStep{
				Version: atoi(up.Values.Get("version")), Method: up.Values.Get("method"), Carrier: up.Values.Get("carrier"),
				Tracking: up.Values.Get("tracking"), Seal: up.Values.Get("seal"), Condition: up.Values.Get("condition")}, up.Files)
		}, "assignment.returned")
}

// uploadAssignmentEvidence adds files to the volunteer's own purchase
// (a receipt that was missing, more photos).
func (s *Server) uploadAssignmentEvidence(c echo.Context) error {
	return s.assignmentStep(c, "evidence", chosenKind,
		func(a purchase.Assignment, up upload) error {
			return s.Purchases.AddEvidence(c.Request().Context(), actorOf(c), a.ID, up.Files)
		}, "evidence.uploaded")
}

func (s *Server) assignmentStep(c echo.Context, step string, kinds kindsFunc,
	run func(purchase.Assignment, upload) error, done string) error {
	a := assignmentOf(c)
	up, err := s.readUpload(c, kinds)
	if err == nil {
		if err = run(a, up); err != nil {
			s.discard(c.Request().Context(), up.Files)
		}
	}
	if err != nil {
		status, errs, ferr := refusal(err)
		if ferr != nil {
			return ferr
		}
		fresh, gerr := s.Purchases.Assignment(c.Request().Context(), actorOf(c), a.ID)
		if gerr != nil {
			return gerr
		}
		return s.renderAssignment(c, status, fresh, page.StepForm{Step: step, Values: up.Values, Errors: errs})
	}
	return s.redirect(c, "/assignments/"+strconv.FormatInt(a.ID, 10), "success", done)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
