package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"spotcheck/internal/audit"
	"spotcheck/internal/brand"
	"spotcheck/internal/user"
	"spotcheck/internal/valid"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func userCmd(ctx context.Context, a *app, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("user: want add, disable or passwd")
	}
	fs := newFlagSet("user "+args[0], stderr)
	email := fs.String("email", "", "e-mail address")
	switch args[0] {
	case "add":
		name := fs.String("name", "", "full name")
		r := fs.String("role", "", "admin, staff, volunteer or brand")
		var brands stringList
		fs.Var(&brands, "brand", "brand name (brand users; repeat for several)")
		if err := fs.Parse(args[1:]); err != nil {
			return errUsage
		}
		in := user.New{Email: *email, Name: *name, Role: *r}
		for _, n := range brands {
			b, err := a.brands.ByName(ctx, n)
			if err != nil {
				return fmt.Errorf("brand %q: %w (create it with: spotcheck brand add --name ...)", n, err)
			}
			in.BrandIDs = append(in.BrandIDs, b.ID)
		}
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		in.Password = pw
		u, err := a.users.Create(ctx, in)
		if err != nil {
			return explain(err)
		}
		return say(stdout, "created user %d %s (%s)\n", u.ID, u.Email, u.Role)
	case "disable", "passwd":
		if err := fs.Parse(args[1:]); err != nil {
			return errUsage
		}
		u, err := a.users.ByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("user %q: %w", *email, err)
		}
		if args[0] == "disable" {
			if err := a.users.Disable(ctx, u.ID); err != nil {
				return err
			}
			return say(stdout, "disabled %s; their sessions have ended\n", u.Email)
		}
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		if err := a.users.ResetPassword(ctx, u.ID, pw); err != nil {
			return explain(err)
		}
		return say(stdout, "password changed for %s; their sessions have ended\n", u.Email)
	}
	return fmt.Errorf("user: unknown subcommand %q", args[0])
}

func brandCmd(ctx context.Context, a *app, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("brand: want add")
	}
	fs := newFlagSet("brand add", stderr)
	name := fs.String("name", "", "brand name")
	holder := fs.String("rights-holder", "", "rights holder")
	contact := fs.String("contact", "", "contact")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	b, err := a.brands.Create(ctx, brand.New{Name: *name, RightsHolder: *holder, Contact: *contact})
	if err != nil {
		return explain(err)
	}
	return say(stdout, "created brand %d %s\n", b.ID, b.Name)
}

func auditCmd(ctx context.Context, a *app, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("audit: want verify")
	}
	s, err := audit.Verify(ctx, a.db.Gorm)
	var be *audit.BrokenError
	if errors.As(err, &be) {
		return errors.Join(err, say(stdout, "BROKEN at event %d: %s\nthe %d events before it are intact; head of the intact part: %s\n",
			be.Seq, be.Reason, s.Events, s.HeadHash))
	}
	if err != nil {
		return err
	}
	return say(stdout, "audit chain intact: %d events, head %d %s\n", s.Events, s.HeadSeq, s.HeadHash)
}

// readPassword prompts twice without echo on a terminal, or reads one line
// from a pipe (for scripts).
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(prompt string) (string, error) {
			if err := say(stderr, "%s", prompt); err != nil {
				return "", err
			}
			pw, err := term.ReadPassword(int(f.Fd()))
			return string(pw), errors.Join(err, say(stderr, "\n"))
		}
		a, err := ask("Password: ")
		if err != nil {
			return "", err
		}
		b, err := ask("Repeat: ")
		if err != nil {
			return "", err
		}
		if a != b {
			return "", errors.New("the two passwords differ")
		}
		return a, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// explain turns field errors into a readable line for the shell.
func explain(err error) error {
	if fe, ok := valid.As(err); ok {
		parts := make([]string, 0, len(fe))
		for f, k := range fe {
			parts = append(parts, fmt.Sprintf("--%s: %s", f, englishOf(k)))
		}
		return errors.New(strings.Join(parts, "; "))
	}
	return err
}

// tokenCmd makes, lists and revokes the API tokens of the risk systems.
func tokenCmd(ctx context.Context, a *app, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("token: want create, list or revoke")
	}
	fs := newFlagSet("token "+args[0], stderr)
	switch args[0] {
	case "create":
		name := fs.String("name", "", "name of the system that will use the token")
		if err := fs.Parse(args[1:]); err != nil {
			return errUsage
		}
		secret, t, err := a.tokens.Create(ctx, 0, *name)
		if err != nil {
			return explain(err)
		}
		err = errors.Join(say(stderr, "token %d for %s created; it is shown once:\n", t.ID, t.Name), say(stdout, "%s\n", secret))
		if err != nil {
			return fmt.Errorf("token %d was created but may not have been shown: revoke it and create another: %w", t.ID, err)
		}
		return nil
	case "list":
		ts, err := a.tokens.List(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			state, used := "active", "never used"
			if t.RevokedAt != nil {
				state = "revoked " + t.RevokedAt.UTC().Format("2006-01-02 15:04Z")
			}
			if t.LastUsedAt != nil {
				used = "last used " + t.LastUsedAt.UTC().Format("2006-01-02 15:04Z")
			}
			if err := say(stdout, "%d\t%s\t%s…\t%s\t%s\n", t.ID, t.Name, t.Prefix, used, state); err != nil {
				return err
			}
		}
		return nil
	case "revoke":
		id := fs.Int64("id", 0, "token id (see token list)")
		if err := fs.Parse(args[1:]); err != nil {
			return errUsage
		}
		if err := a.tokens.Revoke(ctx, *id); err != nil {
			return fmt.Errorf("token %d: %w", *id, err)
		}
		return say(stdout, "token %d revoked\n", *id)
	}
	return fmt.Errorf("token: unknown subcommand %q", args[0])
}
