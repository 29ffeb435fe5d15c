// Package user keeps Spotcheck's accounts: who they are, their role, their
// password, their brands, and signing in with throttling.
package user

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/password"
	"spotcheck/internal/role"
	"spotcheck/internal/valid"
)

// User is one account.
type User struct {
	ID             int64
	Email          string
	Name           string
	Role           role.Role
	PasswordHash   string `json:"-"`
	Locale         string
	SessionVersion int
	DisabledAt     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	BrandIDs       []int64 `gorm:"-"`
}

// Disabled reports whether the account may no longer sign in.
func (u User) Disabled() bool { return u.DisabledAt != nil }

// Actor is u as the authorization policy sees them.
func (u User) Actor() authz.Actor {
	return authz.Actor{UserID: u.ID, Role: u.Role, BrandIDs: u.BrandIDs}
}

type member struct {
	UserID  int64
	BrandID int64
}

func (member) TableName() string { return "brand_members" }

// New is the input for creating an account.
type New struct {
	Email    string
	Name     string
	Role     string
	Password string
	BrandIDs []int64
}

// Service holds the account use cases.
type Service struct {
	db     *database.DB
	hasher *password.Hasher
	limits Limits
}

// Limits configure sign-in throttling.
type Limits struct {
	MaxFailures int
	Window      time.Duration
}

func NewService(db *database.DB, h *password.Hasher, l Limits) *Service {
	return &Service{db: db, hasher: h, limits: l}
}

// NormalizeEmail is how e-mail addresses are compared and stored.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Create adds an account. Brand users must be bound to at least one brand;
// other roles to none.
func (s *Service) Create(ctx context.Context, in New) (User, error) {
	u := User{Email: NormalizeEmail(in.Email), Name: strings.TrimSpace(in.Name), SessionVersion: 1}
	errs := valid.Errors{}
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
		errs.Add("email", "error.email_invalid")
	}
	if u.Name == "" {
		errs.Add("name", "error.required")
	}
	r, err := role.Parse(in.Role)
	if err != nil {
		errs.Add("role", "error.role_invalid")
	}
	u.Role = r
	if r == role.Brand && len(in.BrandIDs) == 0 {
		errs.Add("brands", "error.brand_required")
	}
	if r != role.Brand && len(in.BrandIDs) > 0 {
		errs.Add("brands", "error.brand_only_for_brand_users")
	}
	if err := password.Validate(in.Password); err != nil {
		errs.Add("password", passwordKey(err))
	}
	if _, ok := errs["email"]; !ok {
		var n int64
		if err := s.db.Gorm.WithContext(ctx).Model(&User{}).Where("email = ?", u.Email).Count(&n).Error; err != nil {
			return User{}, err
		}
		if n > 0 {
			errs.Add("email", "error.email_taken")
		}
	}
	if err := errs.Err(); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	u.PasswordHash = hash
	err = s.db.InTx(ctx, func(tx *gorm.DB) error {
		// The unique index settles a race between two creations.
		if err := tx.Omit("BrandIDs").Create(&u).Error; database.IsUniqueViolation(err) {
			return valid.Errors{"email": "error.email_taken"}
		} else if err != nil {
			return err
		}
		if err := bindBrands(tx, u.ID, in.BrandIDs); err != nil {
			return err
		}
		u.BrandIDs = in.BrandIDs
		_, err := audit.Append(ctx, tx, audit.Record{Action: "user.create", ObjectType: "user", ObjectID: u.ID,
			Detail: map[string]any{"email": u.Email, "role": u.Role.String(), "brands": in.BrandIDs}})
		return err
	})
	return u, err
}

func bindBrands(tx *gorm.DB, userID int64, brandIDs []int64) error {
	for _, b := range brandIDs {
		var n int64
		if err := tx.Table("brands").Where("id = ?", b).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return valid.Errors{"brands": "error.brand_unknown"}
		}
		if err := tx.Create(&member{UserID: userID, BrandID: b}).Error; err != nil {
			return err
		}
	}
	return nil
}

// BindBrand binds a brand user to one more brand.
func (s *Service) BindBrand(ctx context.Context, userID, brandID int64) error {
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		u, err := get(tx, userID)
		if err != nil {
			return err
		}
		if u.Role != role.Brand {
			return valid.Errors{"brands": "error.brand_only_for_brand_users"}
		}
		var n int64
		if err := tx.Model(&member{}).Where("user_id = ? AND brand_id = ?", userID, brandID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if err := bindBrands(tx, userID, []int64{brandID}); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "user.bind_brand", ObjectType: "user", ObjectID: userID,
			Detail: map[string]any{"brand_id": brandID}})
		return err
	})
}

// Disable stops an account from signing in and ends all its sessions at
// once: bumping the session version invalidates every session that carries
// the old one on its next request.
func (s *Service) Disable(ctx context.Context, id int64) error {
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		u, err := get(tx, id)
		if err != nil {
			return err
		}
		if u.Disabled() {
			return nil
		}
		now := s.db.Now()
		if err := tx.Model(&User{}).Where("id = ?", id).Updates(map[string]any{
			"disabled_at": now, "session_version": gorm.Expr("session_version + 1"), "updated_at": now,
		}).Error; err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "user.disable", ObjectType: "user", ObjectID: id,
			Detail: map[string]any{"email": u.Email}})
		return err
	})
}

// Enable lets a disabled account sign in again.
func (s *Service) Enable(ctx context.Context, id int64) error {
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		if _, err := get(tx, id); err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", id).Updates(map[string]any{
			"disabled_at": nil, "updated_at": s.db.Now(),
		}).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "user.enable", ObjectType: "user", ObjectID: id})
		return err
	})
}

// ResetPassword sets a new password chosen by an administrator and ends the
// account's sessions.
func (s *Service) ResetPassword(ctx context.Context, id int64, newPassword string) error {
	return s.setPassword(ctx, id, newPassword, "user.reset_password")
}

// ChangePassword is the account holder changing their own password; the
// current one must be given. Other sessions of the account end; the caller
// renews the current session with the returned user's session version.
func (s *Service) ChangePassword(ctx context.Context, id int64, current, newPassword string) (User, error) {
	u, err := s.Get(ctx, id)
	if err != nil {
		return User{}, err
	}
	if err := s.hasher.Verify(ctx, current, u.PasswordHash); err != nil {
		return User{}, valid.Errors{"current": "error.password_wrong"}
	}
	if err := s.setPassword(ctx, id, newPassword, "user.change_password"); err != nil {
		return User{}, err
	}
	return s.Get(ctx, id)
}

func (s *Service) setPassword(ctx context.Context, id int64, pw, action string) error {
	if err := password.Validate(pw); err != nil {
		return valid.Errors{"password": passwordKey(err)}
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		if _, err := get(tx, id); err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", id).Updates(map[string]any{
			"password_hash": hash, "session_version": gorm.Expr("session_version + 1"), "updated_at": s.db.Now(),
		}).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: action, ObjectType: "user", ObjectID: id})
		return err
	})
}

// SetLocale stores the account's language ("" follows the browser).
func (s *Service) SetLocale(ctx context.Context, id int64, locale string) error {
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", id).Update("locale", locale).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "user.set_locale", ObjectType: "user", ObjectID: id,
			Detail: map[string]any{"locale": locale}})
		return err
	})
}

// Get loads an account with its brands.
func (s *Service) Get(ctx context.Context, id int64) (User, error) {
	return get(s.db.Gorm.WithContext(ctx), id)
}

// Managed is the account id as an actor who manages accounts sees it; to
// anyone else it is not found, so ids leak nothing.
func (s *Service) Managed(ctx context.Context, actor authz.Actor, id int64) (User, error) {
	if !authz.Can(actor, authz.ManageUsers, authz.Subject{Kind: "user", OwnerID: id}) {
		return User{}, database.ErrNotFound
	}
	return s.Get(ctx, id)
}

func get(db *gorm.DB, id int64) (User, error) {
	var u User
	if err := db.Take(&u, id).Error; err != nil {
		return User{}, database.NotFound(err)
	}
	if u.Role != role.Brand { // only brand users are bound to brands; spare the query
		return u, nil
	}
	err := db.Model(&member{}).Where("user_id = ?", id).Order("brand_id").Pluck("brand_id", &u.BrandIDs).Error
	return u, err
}

// List returns every account, by e-mail.
func (s *Service) List(ctx context.Context) ([]User, error) {
	var us []User
	db := s.db.Gorm.WithContext(ctx)
	if err := db.Order("email").Find(&us).Error; err != nil {
		return nil, err
	}
	var ms []member
	if err := db.Order("brand_id").Find(&ms).Error; err != nil {
		return nil, err
	}
	byUser := map[int64][]int64{}
	for _, m := range ms {
		byUser[m.UserID] = append(byUser[m.UserID], m.BrandID)
	}
	for i := range us {
		us[i].BrandIDs = byUser[us[i].ID]
	}
	return us, nil
}

// ByEmail finds an account by e-mail address.
func (s *Service) ByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.db.Gorm.WithContext(ctx).Where("email = ?", NormalizeEmail(email)).Take(&u).Error
	if err != nil {
		return User{}, database.NotFound(err)
	}
	return get(s.db.Gorm.WithContext(ctx), u.ID)
}

func passwordKey(err error) string {
	switch err {
	case password.ErrTooShort:
		return "error.password_short"
	case password.ErrTooLong:
		return "error.password_long"
	}
	return "error.password_invalid"
}

// ChangeRole gives an account another role; brand users get exactly the
// given brands, other roles none. The account's sessions end, so the new
// role takes effect on a fresh, renewed session.
func (s *Service) ChangeRole(ctx context.Context, id int64, newRole string, brandIDs []int64) error {
	r, err := role.Parse(newRole)
	errs := valid.Errors{}
	if err != nil {
		errs.Add("role", "error.role_invalid")
	}
	if r == role.Brand && len(brandIDs) == 0 {
		errs.Add("brands", "error.brand_required")
	}
	if r != role.Brand && len(brandIDs) > 0 {
		errs.Add("brands", "error.brand_only_for_brand_users")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		u, err := get(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", id).Delete(&member{}).Error; err != nil {
			return err
		}
		if err := bindBrands(tx, id, brandIDs); err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", id).Updates(map[string]any{
			"role": r, "session_version": gorm.Expr("session_version + 1"), "updated_at": s.db.Now(),
		}).Error; err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "user.change_role", ObjectType: "user", ObjectID: id,
			Detail: map[string]any{"from": u.Role.String(), "to": r.String(), "brands_before": u.BrandIDs, "brands": brandIDs}})
		return err
	})
}

// Investigators lists the active staff and admins, who can be assigned
// cases, by name.
func (s *Service) Investigators(ctx context.Context) ([]User, error) {
	var us []User
	err := s.db.Gorm.WithContext(ctx).Where("role IN ? AND disabled_at IS NULL", []string{"staff", "admin"}).
		Order("name").Find(&us).Error
	return us, err
}

// Names maps user ids to names, for timelines.
func (s *Service) Names(ctx context.Context, ids []int64) (map[int64]string, error) {
	m := map[int64]string{}
	if len(ids) == 0 {
		return m, nil
	}
	var us []User
	if err := s.db.Gorm.WithContext(ctx).Select("id", "name").Where("id IN ?", ids).Find(&us).Error; err != nil {
		return nil, err
	}
	for _, u := range us {
		m[u.ID] = u.Name
	}
	return m, nil
}
