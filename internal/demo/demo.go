// Package demo loads a fictional data set so that every screen has
// something real to show. Loading is idempotent: what exists is left alone.
// Every name here is invented.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"spotcheck/internal/brand"
	"spotcheck/internal/bundle"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/evidence"
	"spotcheck/internal/flag"
	"spotcheck/internal/purchase"
	"spotcheck/internal/shop"
	"spotcheck/internal/user"
	"spotcheck/internal/verdict"
)

// Deps are the services the demo writes through, so that demo data obey
// the same rules (and leave the same audit trail) as real data.
type Deps struct {
	DB       *database.DB
	Location *time.Location // the platform's zone: the demo's dates are days there
	Users    *user.Service
	Brands   *brand.Service
	Cases    *casework.Service
	Flags    *flag.Service
	Shops    *shop.Service

	Purchases   *purchase.Service
	Evidence    *evidence.Store
	Verdicts    *verdict.Service
	Enforcement *enforcement.Service
	Jobs        bundle.Inserter

	// Volume is how many cases of the last six months to add to the
	// story (DefaultVolume for `spotcheck demo`; 0: the story alone).
	Volume int
}

// Account is one demo sign-in.
type Account struct {
	Role    string
	Email   string
	Name    string
	Brands  []string
	Created bool
}

// Result is what Load did.
type Result struct {
	Accounts     []Account
	Password     string
	PasswordNote string
	Volume       int // cases the volume added (0: none asked, or there already)
}

var brands = []brand.New{
	{Name: "Aurora Timepieces", RightsHolder: "Aurora Horology AG (fictional)", Contact: "ip-protection@aurora.example"},
	{Name: "Lotus Leather", RightsHolder: "Lotus Leather Goods Ltd (fictional)", Contact: "brand-protection@lotus.example"},
	{Name: "Maple & Finch Eyewear", RightsHolder: "Maple & Finch Optical SA (fictional)", Contact: "legal@maplefinch.example"},
	{Name: "Koru Outdoor", RightsHolder: "Koru Outdoor Gear Ltd (fictional)", Contact: "brand@koru.example"},
}

var accounts = []Account{
	{Role: "admin", Email: "admin@demo.spotcheck.test", Name: "Morgan Admin"},
	{Role: "staff", Email: "staff@demo.spotcheck.test", Name: "Lin Qiao"},
	{Role: "volunteer", Email: "volunteer@demo.spotcheck.test", Name: "Chen Yu"},
	{Role: "volunteer", Email: "volunteer2@demo.spotcheck.test", Name: "Zhao Lei"},
	{Role: "volunteer", Email: "volunteer3@demo.spotcheck.test", Name: "Sun Mei"},
	{Role: "brand", Email: "brand@demo.spotcheck.test", Name: "Ada Keller", Brands: []string{"Aurora Timepieces"}},
}

// passwordFile keeps a generated demo password in the data folder, so that
// every later `make run` can print it again.
const passwordFile = "demo-password.txt"

// Load creates the demo brands and accounts that do not exist yet. The
// password is pw when given, else the one generated on an earlier run, else
// a new random one.
func Load(ctx context.Context, d Deps, pw, dataDir string) (Result, error) {
	res := Result{}
	var err error
	res.Password, res.PasswordNote, err = demoPassword(pw, dataDir)
	if err != nil {
		return res, err
	}
	for _, b := range brands {
		if _, err := d.Brands.ByName(ctx, b.Name); err == nil {
			continue
		} else if !errors.Is(err, database.ErrNotFound) {
			return res, err
		}
		if _, err := d.Brands.Create(ctx, b); err != nil {
			return res, fmt.Errorf("demo brand %s: %w", b.Name, err)
		}
	}
	for _, acc := range accounts {
		_, err := d.Users.ByEmail(ctx, acc.Email)
		switch {
		case err == nil:
			res.Accounts = append(res.Accounts, acc)
			continue
		case !errors.Is(err, database.ErrNotFound):
			return res, err
		}
		in := user.New{Email: acc.Email, Name: acc.Name, Role: acc.Role, Password: res.Password}
		for _, name := range acc.Brands {
			b, err := d.Brands.ByName(ctx, name)
			if err != nil {
				return res, err
			}
			in.BrandIDs = append(in.BrandIDs, b.ID)
		}
		if _, err := d.Users.Create(ctx, in); err != nil {
			return res, fmt.Errorf("demo account %s: %w", acc.Email, err)
		}
		acc.Created = true
		res.Accounts = append(res.Accounts, acc)
	}
	if err := loadCases(ctx, d); err != nil {
		return res, err
	}
	if err := loadNetwork(ctx, d); err != nil {
		return res, err
	}
	var brandIDs []int64
	for _, b := range brands {
		got, err := d.Brands.ByName(ctx, b.Name)
		if err != nil {
			return res, err
		}
		brandIDs = append(brandIDs, got.ID)
	}
	staff, err := d.Users.ByEmail(ctx, "staff@demo.spotcheck.test")
	if err != nil {
		return res, err
	}
	res.Volume, err = loadVolume(ctx, d, d.Volume, brandIDs, staff.ID)
	return res, err
}

func demoPassword(pw, dataDir string) (string, string, error) {
	if pw != "" {
		return pw, "", nil
	}
	path := filepath.Join(dataDir, passwordFile)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 8 { // #nosec G304 -- a fixed file name in the configured data folder
		return strings.TrimSpace(string(b)), "(generated on the first run and kept in " + path + ")", nil
	}
	pw = generate()
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", "", err
	}
	return pw, "(generated now and kept in " + path + "; set SPOTCHECK_DEMO_PASSWORD to choose your own)", nil
}

// generate makes a random password of 16 base32 characters in four
// groups, easy to read off a terminal.
func generate() string {
	t := strings.ToLower(rand.Text()[:16])
	return t[0:4] + "-" + t[4:8] + "-" + t[8:12] + "-" + t[12:16]
}
