package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"spotcheck/internal/config"
	"spotcheck/internal/demo"
	"spotcheck/internal/i18n"
)

func loadDemo(ctx context.Context, cfg config.Config, a *app, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	volume := fs.Int("volume", demo.DefaultVolume, "cases of the last six months to add to the hand-made story, once (0: the story alone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *volume < 0 || *volume > 100_000 {
		return fmt.Errorf("demo -volume: %d is not between 0 and 100000", *volume)
	}
	res, err := demo.Load(ctx, demo.Deps{DB: a.db, Location: cfg.Location, Users: a.users, Brands: a.brands,
		Cases: a.cases, Flags: a.flags, Shops: a.shops, Purchases: a.purchases, Evidence: a.evidence, Verdicts: a.verdicts,
		Enforcement: a.enforcement, Jobs: a.jobs, Volume: *volume}, cfg.DemoPassword, cfg.DataDir)
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
	if res.Volume > 0 {
		fmt.Fprintf(&b, "Added %d cases of the last six months (seeded; a later run leaves them alone).\n", res.Volume)
	}
	if res.PasswordNote != "" {
		b.WriteString(res.PasswordNote + "\n")
	}
	return say(stdout, "%s", b.String())
}

func englishOf(key string) string { return i18n.English.T(key) }
