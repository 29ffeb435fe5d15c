package purchase

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/role"
	"spotcheck/internal/stats"
	"spotcheck/internal/valid"
)

// Volunteer is a covert buyer's profile. Brands only ever see Pseudonym.
type Volunteer struct {
	UserID    int64 `gorm:"primaryKey"`
	Pseudonym string
	Region    string
	PausedAt  *time.Time
	CreatedAt time.Time
}

// Persona is one buyer identity a volunteer shops under.
type Persona struct {
	ID                int64
	VolunteerID       int64
	PlatformAccount   string
	AddressAlias      string
	Phone             string
	PaymentInstrument string
	BurnedAt          *time.Time
	BurnedReason      string
	CreatedAt         time.Time
}

// MaskedPayment shows only the last four characters of the instrument.
func (p Persona) MaskedPayment() string { return mask(p.PaymentInstrument) }

// MaskedPhone shows only the last four digits.
func (p Persona) MaskedPhone() string { return mask(p.Phone) }

func mask(s string) string {
	r := []rune(s)
	if len(r) <= 4 {
		return strings.Repeat("•", len(r))
	}
	return strings.Repeat("•", len(r)-4) + string(r[len(r)-4:])
}

// pseudonymAlphabet leaves out look-alikes (0/O, 1/I).
const pseudonymAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// newPseudonym is random, so nothing about the person can be read from it.
func newPseudonym() string {
	b := make([]byte, 4)
	rand.Read(b)
	for i := range b {
		b[i] = pseudonymAlphabet[int(b[i])%len(pseudonymAlphabet)]
	}
	return "Buyer B-" + string(b)
}

// EnsureTx returns the profile of volunteer user id, creating it with a
// fresh pseudonym on first use.
func EnsureTx(tx *gorm.DB, userID int64) (Volunteer, error) {
	var v Volunteer
	err := tx.Take(&v, "user_id = ?", userID).Error
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return v, err
	}
	var r role.Role
	if err := scalar(tx, &r, "SELECT role FROM users WHERE id = ?", userID); err != nil {
		return v, err
	}
	if r != role.Volunteer {
		return v, valid.Errors{"volunteer": "error.not_a_volunteer"}
	}
	for range 5 {
		v = Volunteer{UserID: userID, Pseudonym: newPseudonym(), CreatedAt: database.Now(tx)}
		err = tx.Create(&v).Error
		if !database.IsUniqueViolation(err) {
			return v, err
		}
	}
	return v, err
}

// Pool is a volunteer's line on the staff's pool screen.
type Pool struct {
	UserID         int64
	Name           string
	Email          string
	Pseudonym      string
	Region         string
	Paused         bool
	Disabled       bool
	Active         int // purchases under way
	Completed      int // dispatched
	Cancelled      int
	Personas       int
	BurnedPersonas int
}

// ListPool lists every volunteer account with its workload and record.
func (s *Service) ListPool(ctx context.Context) ([]Pool, error) {
	var out []Pool
	err := s.db.Gorm.WithContext(ctx).Raw(`
SELECT u.id AS user_id, u.name, u.email, COALESCE(v.pseudonym, '') AS pseudonym, COALESCE(v.region, '') AS region,
       v.paused_at IS NOT NULL AS paused, u.disabled_at IS NOT NULL AS disabled,
       (SELECT COUNT(*) FROM purchases p WHERE p.volunteer_id = u.id AND p.status IN ('assigned', 'ordered', 'received')) AS active,
       (SELECT COUNT(*) FROM purchases p WHERE p.volunteer_id = u.id AND p.status = 'dispatched') AS completed,
       (SELECT COUNT(*) FROM purchases p WHERE p.volunteer_id = u.id AND p.status = 'cancelled') AS cancelled,
       (SELECT COUNT(*) FROM personas x WHERE x.volunteer_id = u.id) AS personas,
       (SELECT COUNT(*) FROM personas x WHERE x.volunteer_id = u.id AND x.burned_at IS NOT NULL) AS burned_personas
FROM users u LEFT JOIN volunteers v ON v.user_id = u.id
WHERE u.role = ? ORDER BY u.name, u.id`, role.Volunteer).Scan(&out).Error
	return out, err
}

// PoolFigures is the volunteer pool now, for the dashboard: volunteers
// who may be given purchases, volunteers paused, and purchases under way
// (assigned, ordered or received). Disabled accounts are in neither.
type PoolFigures struct {
	Active, Paused, InProgress int64
}

// Figures counts the pool: the volunteer accounts (thousands at most) and
// the live purchases, through purchases_one_live_idx. Staff only.
func (s *Service) Figures(ctx context.Context, actor authz.Actor) (PoolFigures, error) {
	var f PoolFigures
	if !authz.Can(actor, authz.ManageVolunteers, authz.Subject{}) {
		return f, ErrNotAllowed
	}
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT COALESCE(sum(CASE WHEN v.paused_at IS NULL THEN 1 ELSE 0 END), 0) AS active,
		COALESCE(sum(CASE WHEN v.paused_at IS NULL THEN 0 ELSE 1 END), 0) AS paused,
		(SELECT count(*) FROM purchases WHERE status IN ('assigned', 'ordered', 'received')) AS in_progress
		FROM users u LEFT JOIN volunteers v ON v.user_id = u.id
		WHERE u.role = ? AND u.disabled_at IS NULL`, role.Volunteer).Scan(&f).Error
	return f, err
}

// Profile is one volunteer with their personas.
type Profile struct {
	Volunteer Volunteer
	Name      string
	Email     string
	Personas  []Persona
}

// GetProfile loads a volunteer's profile for staff (creating the profile
// row on first sight of a volunteer account).
func (s *Service) GetProfile(ctx context.Context, actor authz.Actor, userID int64) (Profile, error) {
	if !authz.Can(actor, authz.ManageVolunteers, authz.Subject{}) {
		return Profile{}, database.ErrNotFound
	}
	var p Profile
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		v, err := EnsureTx(tx, userID)
		if err != nil {
			return err
		}
		p.Volunteer = v
		var u struct{ Name, Email string }
		if err := tx.Table("users").Select("name, email").Where("id = ?", userID).Take(&u).Error; err != nil {
			return err
		}
		p.Name, p.Email = u.Name, u.Email
		return tx.Where("volunteer_id = ?", userID).Order("id").Find(&p.Personas).Error
	})
	if _, ok := valid.As(err); ok {
		return Profile{}, database.ErrNotFound
	}
	return p, err
}

// UpdateVolunteer sets a volunteer's region and whether they are paused.
func (s *Service) UpdateVolunteer(ctx context.Context, actor authz.Actor, userID int64, region string, paused bool) error {
	region = strings.TrimSpace(region)
	if len(region) > 100 {
		return valid.Errors{"region": "error.too_long"}
	}
	return s.staffTx(ctx, actor, func(tx *gorm.DB) error {
		v, err := EnsureTx(tx, userID)
		if err != nil {
			return err
		}
		var pausedAt *time.Time
		if paused {
			now := s.db.Now()
			pausedAt = &now
			if v.PausedAt != nil {
				pausedAt = v.PausedAt
			}
		}
		if err := tx.Model(&Volunteer{}).Where("user_id = ?", userID).
			Updates(map[string]any{"region": region, "paused_at": pausedAt}).Error; err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "volunteer.update", ObjectType: "volunteer", ObjectID: v.Pseudonym,
			Detail: map[string]any{"region": region, "paused": paused}})
		return err
	})
}

// NewPersona is what a persona needs.
type NewPersona struct {
	PlatformAccount, AddressAlias, Phone, PaymentInstrument string
}

// AddPersona gives a volunteer another buyer identity.
func (s *Service) AddPersona(ctx context.Context, actor authz.Actor, userID int64, in NewPersona) (Persona, error) {
	errs := valid.Errors{}
	for field, v := range map[string]*string{"platform_account": &in.PlatformAccount, "address_alias": &in.AddressAlias,
		"phone": &in.Phone, "payment_instrument": &in.PaymentInstrument} {
		*v = strings.TrimSpace(*v)
		if *v == "" {
			errs.Add(field, "error.required")
		} else if len(*v) > 200 {
			errs.Add(field, "error.too_long")
		}
	}
	if err := errs.Err(); err != nil {
		return Persona{}, err
	}
	var p Persona
	err := s.staffTx(ctx, actor, func(tx *gorm.DB) error {
		v, err := EnsureTx(tx, userID)
		if err != nil {
			return err
		}
		p = Persona{VolunteerID: userID, PlatformAccount: in.PlatformAccount, AddressAlias: in.AddressAlias, Phone: in.Phone,
			PaymentInstrument: in.PaymentInstrument, CreatedAt: s.db.Now()}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		// The audit chain keeps who did it, never the persona's details.
		_, err = audit.Append(ctx, tx, audit.Record{Action: "persona.add", ObjectType: "persona", ObjectID: itoa(p.ID),
			Detail: map[string]any{"volunteer": v.Pseudonym}})
		return err
	})
	return p, err
}

// BurnPersona marks a persona the seller has spotted; it is never used again.
func (s *Service) BurnPersona(ctx context.Context, actor authz.Actor, userID, personaID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return valid.Errors{"reason": "error.reason_required"}
	}
	return s.staffTx(ctx, actor, func(tx *gorm.DB) error {
		now := s.db.Now()
		res := tx.Model(&Persona{}).Where("id = ? AND volunteer_id = ? AND burned_at IS NULL", personaID, userID).
			Updates(map[string]any{"burned_at": now, "burned_reason": reason})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return database.ErrNotFound
		}
		// A persona is nobody's brand's: it counts for all brands only.
		if err := stats.AddTx(tx, now, stats.Delta{Metric: stats.PersonasBurned, BrandID: stats.All, N: 1}); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "persona.burn", ObjectType: "persona", ObjectID: itoa(personaID),
			Detail: map[string]any{"reason": reason}})
		return err
	})
}

func (s *Service) staffTx(ctx context.Context, actor authz.Actor, fn func(tx *gorm.DB) error) error {
	if !authz.Can(actor, authz.ManageVolunteers, authz.Subject{}) {
		return ErrNotAllowed
	}
	return s.db.InTx(ctx, fn)
}

// PersonaFor returns the persona of a purchase the actor may see.
func (s *Service) PersonaFor(ctx context.Context, actor authz.Actor, p Purchase) (Persona, error) {
	if !authz.Can(actor, authz.ViewPurchase, p.Subject()) {
		return Persona{}, database.ErrNotFound
	}
	var ps Persona
	err := s.db.Gorm.WithContext(ctx).Take(&ps, p.PersonaID).Error
	return ps, database.NotFound(err)
}

// Pseudonyms maps the buyers of a case (volunteer user ids) to the
// pseudonyms brands and bundles know them by on that case.
func (s *Service) Pseudonyms(ctx context.Context, caseID int64) (map[int64]string, error) {
	return CasePseudonyms(s.db.Gorm.WithContext(ctx), caseID)
}
