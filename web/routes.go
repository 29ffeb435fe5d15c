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
	e.Use(middleware.BodyLimit("2M"))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.serveMetrics)
	e.GET("/static/*", s.serveStatic)

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

	app.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// noStore keeps signed-in pages out of every cache.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}
