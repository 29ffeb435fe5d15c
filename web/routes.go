package web

import (
	"context"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"spotcheck/internal/authz"
)

// routes is the one index of every route, with its guards declared on the
// groups. The route-matrix test fails when a route is added here without
// its row.
func (s *Server) routes(e *echo.Echo) {
	e.Pre(headAsGet)
	e.Use(middleware.Recover())
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID,
		Generator: newRequestID}))
	e.Use(s.securityHeaders)
	e.Use(s.logRequests)
	// The routes that carry big bodies, with their limits; every other
	// route takes a form of at most 2M.
	bodies := map[string]string{
		"/api/v1/flags": "32M", // 10,000 flags a request
		"/flags/import": "65M", // a CSV of 100,000 flags and more
		// Evidence: up to maxFiles files of the configured size a request.
		"/cases/:ref/evidence":      uploadLimit(s.Config.MaxUpload),
		"/assignments/:id/order":    uploadLimit(s.Config.MaxUpload),
		"/assignments/:id/delivery": uploadLimit(s.Config.MaxUpload),
		"/assignments/:id/dispatch": uploadLimit(s.Config.MaxUpload),
		"/assignments/:id/return":   uploadLimit(s.Config.MaxUpload),
		"/assignments/:id/evidence": uploadLimit(s.Config.MaxUpload),
		"/items/:id/accept":         uploadLimit(s.Config.MaxUpload),
	}
	e.Use(s.deadline(bodies))
	e.Use(bodyLimit(bodies, "2M"))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.serveMetrics)
	e.GET("/static/*", s.serveStatic)

	api := e.Group("/api/v1", s.bearer)
	api.POST("/flags", s.postFlags)

	check, checkForm := s.csrf()
	// The form is read (for its token and its text) only after every gate.
	lastly := func(next echo.HandlerFunc) echo.HandlerFunc { return checkForm(plainForm(next)) }
	app := routeGroup{e.Group("", plainQuery, s.loadSession, s.loadActor, check), lastly}
	app.GET("/", s.root)
	app.GET("/login", s.loginForm)
	app.POST("/login", s.login)
	app.POST("/logout", s.logout)
	app.POST("/language", s.setLanguage)

	signedIn := app.Group("", s.requireSignIn, noStore)
	signedIn.GET("/account/password", s.passwordForm)
	signedIn.POST("/account/password", s.changePassword)
	signedIn.GET("/notifications", s.notifications)
	signedIn.POST("/notifications/read", s.readNotifications)
	// Evidence and items are reached by every role that takes part; the
	// policy decides per object (not found when not allowed).
	signedIn.GET("/evidence/:id", s.downloadEvidence)
	signedIn.GET("/evidence/:id/thumb", s.thumbEvidence)
	signedIn.POST("/evidence/:id/withdraw", s.withdrawEvidence)
	signedIn.POST("/items/:id/accept", s.acceptItem)

	staff := signedIn.Group("", s.require(authz.ViewCases))
	staff.GET("/dashboard", s.dashboard)
	staff.GET("/cases", s.cases)
	staff.GET("/cases/export.csv", s.exportCases, s.require(authz.ExportCases))
	staff.POST("/cases/assign", s.assignCases, s.require(authz.AssignCase))
	oneCase := staff.Group("/cases/:ref", s.loadCase)
	oneCase.GET("", s.showCase)
	oneCase.POST("/transitions", s.fireTransition)
	oneCase.POST("/assign", s.assignCase)
	oneCase.POST("/comments", s.commentCase)
	oneCase.GET("/purchase/new", s.orderForm, s.require(authz.OrderPurchase))
	oneCase.POST("/purchase", s.orderPurchase, s.require(authz.OrderPurchase))
	oneCase.POST("/purchase/cancel", s.cancelPurchase, s.require(authz.CancelPurchase))
	oneCase.POST("/evidence", s.uploadCaseEvidence)
	oneCase.POST("/referral", s.refer, s.require(authz.Enforce))
	oneCase.POST("/referral/progress", s.progressReferral, s.require(authz.Enforce))
	oneCase.POST("/raids", s.recordRaid, s.require(authz.Enforce))
	oneCase.POST("/linked-cases", s.openLinkedCase, s.require(authz.TriageFlags))
	oneCase.POST("/bundles", s.requestBundle, s.require(authz.Enforce))
	oneCase.POST("/bundles/unredacted", s.requestUnredacted, s.require(authz.Enforce))
	oneCase.GET("/bundles/:id", s.downloadBundle, s.require(authz.Enforce))
	oneCase.POST("/claim", s.fileClaim, s.require(authz.Enforce))
	oneCase.POST("/claim/hearings", s.addHearing, s.require(authz.Enforce))
	oneCase.POST("/claim/outcome", s.claimOutcome, s.require(authz.Enforce))
	oneCase.POST("/claim/payments", s.addPayment, s.require(authz.Enforce))
	staff.GET("/reports/recoveries", s.recoveries)
	staff.GET("/reports/recoveries.csv", s.recoveriesCSV, s.require(authz.ExportCases))
	staff.POST("/items/:id/release", s.releaseItem)
	staff.POST("/reimbursements/:id/approve", s.approveReimbursement, s.require(authz.ApproveReimbursement))
	staff.POST("/reimbursements/:id/paid", s.payReimbursement, s.require(authz.ApproveReimbursement))
	pool := staff.Group("/volunteers", s.require(authz.ManageVolunteers))
	pool.GET("", s.volunteerPool)
	pool.GET("/:id", s.volunteerProfile)
	pool.POST("/:id", s.updateVolunteer)
	pool.POST("/:id/personas", s.addPersona)
	pool.POST("/:id/personas/:persona/burn", s.burnPersona)
	triage := staff.Group("/flags", s.require(authz.TriageFlags))
	triage.GET("", s.inbox)
	triage.POST("/open-case", s.triageOpenCase)
	triage.POST("/attach", s.triageAttach)
	triage.POST("/dismiss", s.triageDismiss)
	imports := triage.Group("/import", s.require(authz.ImportFlags))
	imports.GET("", s.importForm)
	imports.POST("", s.uploadImport)
	imports.GET("/:id", s.showImport)
	imports.POST("/:id/start", s.startImport)
	staff.GET("/clusters/:id", s.showCluster)
	oneShop := staff.Group("/shops/:id", s.loadShop)
	oneShop.GET("", s.showShop)
	oneShop.POST("/links", s.addShopLink)
	oneShop.POST("/links/:link/delete", s.removeShopLink)
	oneShop.POST("/suggestions/:suggestion", s.decideSuggestion)

	volunteer := signedIn.Group("", s.require(authz.ViewAssignments))
	volunteer.GET("/assignments", s.assignments)
	volunteer.GET("/reimbursements", s.myReimbursements, s.require(authz.ViewReimbursements))
	assignment := volunteer.Group("/assignments/:id", s.loadAssignment)
	assignment.GET("", s.showAssignment)
	assignment.POST("/order", s.recordOrder)
	assignment.POST("/delivery", s.recordDelivery)
	assignment.POST("/dispatch", s.dispatchItem)
	assignment.POST("/return", s.returnItem)
	assignment.POST("/evidence", s.uploadAssignmentEvidence)

	brandUser := signedIn.Group("", s.require(authz.ViewAuthQueue))
	brandUser.GET("/authentications", s.authentications)
	brandUser.GET("/authentications/cases", s.brandCases)
	brandUser.GET("/authentications/report", s.reportForm)
	brandUser.POST("/authentications/report", s.reportListing)
	brandCase := brandUser.Group("/authentications/:ref", s.loadBrandCase)
	brandCase.GET("", s.showBrandCase)
	brandCase.POST("/verdict", s.submitVerdict)

	admin := signedIn.Group("/admin", s.require(authz.ManageUsers))
	admin.GET("/users", s.adminUsers)
	admin.GET("/users/new", s.adminNewUser)
	admin.POST("/users", s.adminCreateUser)
	adminUser := admin.Group("/users/:id", s.loadUser)
	adminUser.GET("", s.adminUser)
	adminUser.POST("/disable", s.adminDisableUser)
	adminUser.POST("/enable", s.adminEnableUser)
	adminUser.POST("/password", s.adminResetPassword)
	adminUser.POST("/brands", s.adminBindBrand)
	adminUser.POST("/role", s.adminChangeRole)
	admin.GET("/brands", s.adminBrands, s.require(authz.ManageBrands))
	admin.POST("/brands", s.adminCreateBrand, s.require(authz.ManageBrands))
	admin.GET("/deadlines", s.adminDeadlines, s.require(authz.ManageDeadlines))
	admin.POST("/deadlines", s.adminSaveDeadlines, s.require(authz.ManageDeadlines))
	admin.POST("/deadlines/brands/:id", s.adminSaveBrandDeadlines, s.require(authz.ManageDeadlines))
	admin.GET("/tokens", s.adminTokens, s.require(authz.ManageTokens))
	admin.POST("/tokens", s.adminCreateToken, s.require(authz.ManageTokens))
	admin.POST("/tokens/:id/revoke", s.adminRevokeToken, s.require(authz.ManageTokens))

	app.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// routeGroup is a group of the app's routes whose state-changing routes
// check the form's CSRF token last, after the guards of their groups and
// their own: a request refused for who sent it is answered before its body
// is read. It offers only what the route index uses, so that no
// state-changing route can be added without the check.
type routeGroup struct {
	g         *echo.Group
	checkForm echo.MiddlewareFunc
}

func (r routeGroup) Group(prefix string, m ...echo.MiddlewareFunc) routeGroup {
	return routeGroup{r.g.Group(prefix, m...), r.checkForm}
}

func (r routeGroup) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.g.GET(path, h, m...)
}

func (r routeGroup) POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.g.POST(path, h, append(m[:len(m):len(m)], r.checkForm)...)
}

func (r routeGroup) RouteNotFound(path string, h echo.HandlerFunc) {
	r.g.RouteNotFound(path, h)
}

// bodyLimit caps every request body as it arrives, before any middleware
// reads it: by route where a route needs more, else the default.
func bodyLimit(byRoute map[string]string, def string) echo.MiddlewareFunc {
	limits := map[string]echo.MiddlewareFunc{}
	for route, l := range byRoute {
		limits[route] = middleware.BodyLimit(l)
	}
	fallback := middleware.BodyLimit(def)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		limited := map[string]echo.HandlerFunc{}
		for route, mw := range limits {
			limited[route] = mw(next)
		}
		other := fallback(next)
		return func(c echo.Context) error {
			if h, ok := limited[c.Path()]; ok {
				return h(c)
			}
			return other(c)
		}
	}
}

// downloads are the routes that send a file that may be big (an evidence
// original, a bundle, an export) to a phone on a slow network.
var downloads = []string{"/evidence/:id", "/cases/:ref/bundles/:id", "/cases/export.csv", "/reports/recoveries.csv"}

// deadline gives every request its deadline, so that nothing waits for
// ever on a database that stopped answering or on an exhausted pool: the
// request's context ends, the wait returns, the transaction rolls back and
// the one error mapping answers 503. Uploads (the routes with a body limit
// of their own) and downloads get the longer StreamTimeout.
func (s *Server) deadline(bodies map[string]string) echo.MiddlewareFunc {
	long := map[string]bool{}
	for route := range bodies {
		long[route] = true
	}
	for _, route := range downloads {
		long[route] = true
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			d := s.Config.RequestTimeout
			if long[c.Path()] {
				d = s.Config.StreamTimeout
			}
			if d <= 0 {
				return next(c)
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			// The error is answered here, before cancel: past this point
			// the request's context reads as cancelled, which the error
			// mapping takes for a client that went away.
			if err := next(c); err != nil {
				c.Error(err)
			}
			return nil
		}
	}
}

// maxFiles is how many evidence files one request may carry.
const maxFiles = 10

// uploadLimit is the body limit of a route that carries evidence files.
func uploadLimit(perFile int64) string {
	return strconv.FormatInt((maxFiles*perFile+(1<<20))>>10, 10) + "K"
}

// noStore keeps signed-in pages out of every cache.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}
