package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"spotcheck/internal/config"
	"spotcheck/internal/demo"
	"spotcheck/internal/i18n"
)

func loadDemo(ctx context.Context, cfg config.Config, a *app, stdout io.Writer) error {
	res, err := demo.Load(ctx, demo.Deps{DB: a.db, Location: cfg.Location, Users: a.users, Brands: a.brands,
		Cases: a.cases, Flags: a.flags, Shops: a.shops, Purchases: a.purchases, Evidence: a.evidence, Verdicts: a.verdicts,
		Enforcement: a.enforcement, Jobs: a.jobs}, cfg.DemoPassword, cfg.DataDir)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("Demo accounts:\n")
	for _, acc := range res.Accounts {
		state := "created"
		if !acc.Created {
			state = "already there"
		}
		fmt.Fprintf(&b, "  %-10s %-34s %s\n", acc.Role, acc.Email, state)
	}
	fmt.Fprintf(&b, "Password for all of them: %s\n", res.Password)
	if res.PasswordNote != "" {
		b.WriteString(res.PasswordNote + "\n")
	}
	return say(stdout, "%s", b.String())
}

func englishOf(key string) string { return i18n.English.T(key) }
