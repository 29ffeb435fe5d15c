package web

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"spotcheck/internal/authz"
)

// routes is the one index of every route, with its guards declared on the
// groups. The route-matrix test fails when a route is added here without
// its row.
func (s *Server) routes(e *echo.Echo) {
	e.Use(middleware.Recover())
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID,
		Generator: newRequestID}))
	e.Use(s.securityHeaders)
	e.Use(s.logRequests)
	// Forms are small; the flag API takes up to 10,000 flags a request.
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "2M",
		Skipper: func(c echo.Context) bool { return c.Path() == "/api/v1/flags" }}))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.serveMetrics)
	e.GET("/static/*", s.serveStatic)

	api := e.Group("/api/v1", middleware.BodyLimit("32M"), s.bearer)
	api.POST("/flags", s.postFlags)

	app := e.Group("", echo.WrapMiddleware(s.sessions.LoadAndSave), s.loadActor, s.csrf())
	app.GET("/", s.root)
	app.GET("/login", s.loginForm)
	app.POST("/login", s.login)
	app.POST("/logout", s.logout)
	app.POST("/language", s.setLanguage)

	signedIn := app.Group("", s.requireSignIn, noStore)
	signedIn.GET("/account/password", s.passwordForm)
	signedIn.POST("/account/password", s.changePassword)

	staff := signedIn.Group("", s.require(authz.ViewCases))
	staff.GET("/cases", s.cases)
	staff.GET("/cases/export.csv", s.exportCases, s.require(authz.ExportCases))
	oneCase := staff.Group("/cases/:ref", s.loadCase)
	oneCase.GET("", s.showCase)
	oneCase.POST("/transitions", s.fireTransition)
	oneCase.POST("/assign", s.assignCase)
	oneCase.POST("/comments", s.commentCase)
	triage := staff.Group("/flags", s.require(authz.TriageFlags))
	triage.GET("", s.inbox)
	triage.POST("/open-case", s.triageOpenCase)
	triage.POST("/attach", s.triageAttach)
	triage.POST("/dismiss", s.triageDismiss)
	oneShop := staff.Group("/shops/:id", s.loadShop)
	oneShop.GET("", s.showShop)
	oneShop.POST("/links", s.addShopLink)
	oneShop.POST("/links/:link/delete", s.removeShopLink)

	volunteer := signedIn.Group("", s.require(authz.ViewAssignments))
	volunteer.GET("/assignments", s.assignments)

	brandUser := signedIn.Group("", s.require(authz.ViewAuthQueue))
	brandUser.GET("/authentications", s.authentications)

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
	admin.GET("/tokens", s.adminTokens, s.require(authz.ManageTokens))
	admin.POST("/tokens", s.adminCreateToken, s.require(authz.ManageTokens))
	admin.POST("/tokens/:id/revoke", s.adminRevokeToken, s.require(authz.ManageTokens))

	app.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// noStore keeps signed-in pages out of every cache.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}
