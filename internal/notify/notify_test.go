package notify_test

import (
	"bufio"
	"context"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/job"
	"spotcheck/internal/notify"

	"errors"
)

// queue keeps the mail jobs the worker asks for.
type queue struct{ args []river.JobArgs }

func (q *queue) InsertTx(_ context.Context, _ *gorm.DB, a river.JobArgs) error {
	q.args = append(q.args, a)
	return nil
}

func seedUsers(t *testing.T, db *database.DB) {
	t.Helper()
	now := time.Now().UTC()
	for _, u := range []struct {
		id       int64
		role     string
		disabled bool
	}{{1, "staff", false}, {2, "volunteer", false}, {3, "brand", false}, {4, "brand", true}, {5, "brand", false}} {
		var dis *time.Time
		if u.disabled {
			dis = &now
		}
		if err := db.Gorm.Exec(`INSERT INTO users (id, email, name, role, password_hash, locale, created_at, updated_at, disabled_at) VALUES (?, ?, ?, ?, 'x', ?, ?, ?, ?)`,
			u.id, fmt.Sprintf("u%d@x.test", u.id), fmt.Sprintf("User %d", u.id), u.role, map[bool]string{true: "zh", false: ""}[u.id == 1], now, now, dis).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Gorm.Exec(`INSERT INTO brands (id, name, created_at) VALUES (1, 'Aurora', ?), (2, 'Other', ?)`, now, now).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Exec(`INSERT INTO brand_members (user_id, brand_id) VALUES (3, 1), (4, 1), (5, 2)`).Error; err != nil {
		t.Fatal(err)
	}
}

func TestTheWorkerTellsTheUsersAndTheBrandsActiveMembersOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedUsers(t, db)
		ctx := context.Background()
		q := &queue{}
		w := &notify.Worker{DB: db, Queue: q}
		args := notify.Args{Event: notify.ItemDispatched, Subject: "SC-2026-000001-1", Link: "/cases/SC-2026-000001#custody",
			UserIDs: []int64{1, 1}, BrandID: 1, BrandLink: "/authentications"}
		if err := w.Work(ctx, &river.Job[notify.Args]{Args: args}); err != nil {
			t.Fatal(err)
		}
		svc := notify.NewService(db)
		for user, want := range map[int64]int64{1: 1, 2: 0, 3: 1, 4: 0, 5: 0} {
			if n, err := svc.Unread(ctx, user); err != nil || n != want {
				t.Errorf("user %d: %d unread (%v), want %d", user, n, err, want)
			}
		}
		ns, _ := svc.List(ctx, 3, 10)
		if len(ns) != 1 || ns[0].Link != "/authentications" {
			t.Fatalf("the brand user's notification: %+v", ns)
		}
		if len(q.args) != 0 {
			t.Fatalf("mail queued without a mailer: %v", q.args)
		}
		// Another user's notification is not found; one's own opens.
		if _, err := svc.Open(ctx, 1, ns[0].ID); err != database.ErrNotFound {
			t.Fatalf("opening another user's notification: %v", err)
		}
		n, err := svc.Open(ctx, 3, ns[0].ID)
		if err != nil || n.Link != "/authentications" {
			t.Fatalf("open: %+v %v", n, err)
		}
		if c, _ := svc.Unread(ctx, 3); c != 0 {
			t.Fatalf("%d unread after opening", c)
		}
	})
}

// smtpServer is the smallest SMTP server go-mail will talk to: it keeps
// each message it is given, and the errors of its connections.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
	errs []error
}

func startSMTP(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := errors.Join(append(s.errs, ln.Close())...); err != nil {
			t.Errorf("test SMTP server: %v", err)
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	var werr error // the first failed write; later ones are skipped
	defer func() {
		if err := errors.Join(werr, c.Close()); err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
		}
	}()
	r := bufio.NewReader(c)
	say := func(line string) {
		if werr == nil {
			_, werr = fmt.Fprintf(c, "%s\r\n", line)
		}
	}
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "DATA"):
			say("354 go on")
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(l)
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, msg.String())
			s.mu.Unlock()
			say("250 queued")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func TestEmailsAreSentInTheRecipientsLanguageWhenSMTPIsConfigured(t *testing.T) {
	db := dbtest.SQLite(t)
	seedUsers(t, db)
	ctx := context.Background()
	srv := startSMTP(t)
	mailer, err := notify.NewMailer("smtp://"+srv.ln.Addr().String(), "spotcheck@x.test", "https://spotcheck.example")
	if err != nil {
		t.Fatal(err)
	}
	q := &queue{}
	w := &notify.Worker{DB: db, Queue: q, Mailer: mailer}
	if err := w.Work(ctx, &river.Job[notify.Args]{Args: notify.Args{Event: notify.OrderRecorded, Subject: "SC-2026-000009",
		Link: "/cases/SC-2026-000009#purchase", UserIDs: []int64{1}}}); err != nil {
		t.Fatal(err)
	}
	if len(q.args) != 1 {
		t.Fatalf("mail jobs %v", q.args)
	}
	mw := &notify.MailWorker{DB: db, Mailer: mailer}
	if err := mw.Work(ctx, &river.Job[notify.MailArgs]{Args: q.args[0].(notify.MailArgs)}); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.msgs) != 1 || !strings.Contains(srv.msgs[0], "https://spotcheck.example/cases/SC-2026-000009#purchase") ||
		!strings.Contains(srv.msgs[0], "To: <u1@x.test>") {
		t.Fatalf("messages: %q", srv.msgs)
	}
	// User 1 reads Chinese.
	msg, err := mail.ReadMessage(strings.NewReader(srv.msgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Spotcheck: 案件 SC-2026-000009 的订单已登记" {
		t.Fatalf("subject %q (%v)", subject, err)
	}
}

func TestWithoutSMTPThereIsNoMailer(t *testing.T) {
	m, err := notify.NewMailer("", "", "")
	if m != nil || err != nil {
		t.Fatalf("NewMailer(\"\") = %v, %v", m, err)
	}
	if _, err := notify.NewMailer("http://x", "a@b.c", ""); err == nil {
		t.Fatal("an http URL was taken for SMTP")
	}
}

// TestARetriedJobNotifiesAndMailsOnce: River runs a job at least once, so a
// notification job whose writes committed may run again (a crash before
// River marked it complete), and so may its e-mail job.
func TestARetriedJobNotifiesAndMailsOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedUsers(t, db)
		ctx := context.Background()
		srv := startSMTP(t)
		mailer, err := notify.NewMailer("smtp://"+srv.ln.Addr().String(), "spotcheck@x.test", "https://spotcheck.example")
		if err != nil {
			t.Fatal(err)
		}
		q, err := job.New(db, job.Config{})
		if err != nil {
			t.Fatal(err)
		}
		w := &notify.Worker{DB: db, Queue: q, Mailer: mailer}
		j := &river.Job[notify.Args]{JobRow: &rivertype.JobRow{ID: 41, Attempt: 1}, Args: notify.Args{Event: notify.OrderRecorded,
			Subject: "SC-2026-000009", Link: "/cases/SC-2026-000009#purchase", UserIDs: []int64{1, 2}}}
		for range 2 {
			if err := w.Work(ctx, j); err != nil {
				t.Fatal(err)
			}
			j.Attempt++
		}
		var ns []notify.Notification
		if err := db.Gorm.Order("id").Find(&ns).Error; err != nil {
			t.Fatal(err)
		}
		if len(ns) != 2 || ns[0].UserID != 1 || ns[1].UserID != 2 {
			t.Fatalf("notifications after a rerun: %+v", ns)
		}
		var mailJobs int64
		if err := db.Gorm.Table("river_job").Where("kind = ?", notify.MailArgs{}.Kind()).Count(&mailJobs).Error; err != nil {
			t.Fatal(err)
		}
		if mailJobs != 2 {
			t.Fatalf("%d mail jobs for 2 notifications", mailJobs)
		}
		// The e-mail job itself is unique by its notification.
		if err := db.InTx(ctx, func(tx *gorm.DB) error { return q.InsertTx(ctx, tx, notify.MailArgs{NotificationID: ns[0].ID}) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Table("river_job").Where("kind = ?", notify.MailArgs{}.Kind()).Count(&mailJobs).Error; err != nil {
			t.Fatal(err)
		}
		if mailJobs != 2 {
			t.Fatalf("%d mail jobs after inserting one again", mailJobs)
		}
		// A rerun after the SMTP server took the message sends nothing.
		mw := &notify.MailWorker{DB: db, Mailer: mailer}
		mj := &river.Job[notify.MailArgs]{JobRow: &rivertype.JobRow{ID: 42, Attempt: 1}, Args: notify.MailArgs{NotificationID: ns[0].ID}}
		for range 2 {
			if err := mw.Work(ctx, mj); err != nil {
				t.Fatal(err)
			}
		}
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if len(srv.msgs) != 1 {
			t.Fatalf("%d messages sent by a job run twice", len(srv.msgs))
		}
	})
}
