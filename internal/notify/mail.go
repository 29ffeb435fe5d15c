package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"

	"spotcheck/internal/database"
	"spotcheck/internal/i18n"
)

// Mailer sends notification e-mails through an SMTP server.
type Mailer struct {
	client  *mail.Client
	from    string
	baseURL string
}

// NewMailer reads smtp://user:password@host:port (smtps:// for implicit
// TLS; plain smtp uses STARTTLS when the server offers it). An empty URL
// means no e-mail: nil, nil.
func NewMailer(smtpURL, from, baseURL string) (*Mailer, error) {
	if smtpURL == "" {
		return nil, nil
	}
	u, err := url.Parse(smtpURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return nil, fmt.Errorf("SMTP URL must look like smtp://user:password@host:587")
	}
	opts := []mail.Option{mail.WithTLSPolicy(mail.TLSOpportunistic)}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("SMTP port %q", p)
		}
		opts = append(opts, mail.WithPort(port))
	}
	if u.Scheme == "smtps" {
		opts = append(opts, mail.WithSSL())
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(u.User.Username()), mail.WithPassword(pw))
	}
	c, err := mail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, err
	}
	if from == "" {
		return nil, errors.New("SPOTCHECK_MAIL_FROM is needed with SPOTCHECK_SMTP_URL")
	}
	return &Mailer{client: c, from: from, baseURL: baseURL}, nil
}

// MailArgs sends the e-mail of one notification; a failed send is retried
// by River on its own, without writing the notification again.
type MailArgs struct {
	NotificationID int64 `json:"notification_id"`
}

func (MailArgs) Kind() string { return "notify.mail" }

// InsertOpts: one e-mail job per notification, however often it is asked
// for (River's unique key is the kind and the notification id).
func (MailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// MailWorker sends one notification's e-mail, in the recipient's language.
type MailWorker struct {
	river.WorkerDefaults[MailArgs]
	DB     *database.DB
	Mailer *Mailer
	Logger *slog.Logger
}

// Work sends the e-mail unless the notification is marked mailed, and
// marks it once the SMTP server has taken the message. The mark is written
// after the send, not before: a crash between the two sends the e-mail
// again on the rerun (at least once), where marking first could lose it.
// The Message-ID is the notification's, so a mail system that deduplicates
// can drop the second copy.
func (w *MailWorker) Work(ctx context.Context, j *river.Job[MailArgs]) error {
	var row struct {
		Email    string
		Locale   string
		Kind     string
		Subject  string
		Link     string
		MailedAt *time.Time
	}
	err := w.DB.Gorm.WithContext(ctx).Table("notifications n").
		Select("u.email, u.locale, n.kind, n.subject, n.link, n.mailed_at").Joins("JOIN users u ON u.id = n.user_id").
		Where("n.id = ?", j.Args.NotificationID).Take(&row).Error
	if err != nil {
		return err
	}
	if row.MailedAt != nil {
		return nil // sent by an earlier run
	}
	lang, ok := i18n.Parse(row.Locale)
	if !ok {
		lang = i18n.English
	}
	text := lang.T("notify."+row.Kind, row.Subject)
	m := mail.NewMsg()
	if err := m.From(w.Mailer.from); err != nil {
		return err
	}
	if err := m.To(row.Email); err != nil {
		return river.JobCancel(err) // an address that will never work
	}
	m.Subject("Spotcheck: " + text)
	m.SetBodyString(mail.TypeTextPlain, text+"\n\n"+w.Mailer.baseURL+row.Link+"\n")
	m.SetMessageIDWithValue(fmt.Sprintf("notification-%d@%s", j.Args.NotificationID, w.Mailer.domain()))
	if err := w.Mailer.client.DialAndSendWithContext(ctx, m); err != nil {
		return err
	}
	// Not bound by ctx: the message is gone, the mark must follow it.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.DB.Gorm.WithContext(mctx).Table("notifications").Where("id = ?", j.Args.NotificationID).
		Update("mailed_at", w.DB.Now()).Error; err != nil {
		return fmt.Errorf("mark notification %d mailed: %w", j.Args.NotificationID, err)
	}
	return nil
}

// domain is the sender's domain, the right-hand side of Message-IDs.
func (m *Mailer) domain() string {
	if _, d, ok := strings.Cut(m.from, "@"); ok && d != "" {
		return strings.TrimSuffix(d, ">")
	}
	return "spotcheck.invalid"
}
