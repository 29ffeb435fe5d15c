// Package brand keeps the brands whose goods Spotcheck protects, and which
// brand users act for each of them.
package brand

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
	"spotcheck/internal/valid"
)

// Brand is a protected trademark and its rights holder.
type Brand struct {
	ID           int64
	Name         string
	RightsHolder string
	Contact      string
	CreatedAt    time.Time
}

// New is the input for creating a brand.
type New struct {
	Name         string
	RightsHolder string
	Contact      string
}

// Service holds the brand use cases.
type Service struct{ db *database.DB }

func NewService(db *database.DB) *Service { return &Service{db: db} }

// Create adds a brand; names are unique regardless of case.
func (s *Service) Create(ctx context.Context, in New) (Brand, error) {
	b := Brand{Name: strings.TrimSpace(in.Name), RightsHolder: strings.TrimSpace(in.RightsHolder), Contact: strings.TrimSpace(in.Contact)}
	errs := valid.Errors{}
	switch {
	case b.Name == "":
		errs.Add("name", "error.required")
	case len(b.Name) > 200:
		errs.Add("name", "error.too_long")
	}
	if err := errs.Err(); err != nil {
		return Brand{}, err
	}
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Brand{}).Where("lower(name) = lower(?)", b.Name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return valid.Errors{"name": "error.brand_exists"}
		}
		if err := tx.Create(&b).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "brand.create", ObjectType: "brand", ObjectID: b.ID,
			Detail: map[string]any{"name": b.Name, "rights_holder": b.RightsHolder}})
		return err
	})
	return b, err
}

// List returns every brand by name.
func (s *Service) List(ctx context.Context) ([]Brand, error) {
	var bs []Brand
	err := s.db.Gorm.WithContext(ctx).Order("lower(name)").Find(&bs).Error
	return bs, err
}

// ByName finds a brand by its name, ignoring case.
func (s *Service) ByName(ctx context.Context, name string) (Brand, error) {
	var b Brand
	err := s.db.Gorm.WithContext(ctx).Where("lower(name) = lower(?)", strings.TrimSpace(name)).Take(&b).Error
	return b, database.NotFound(err)
}

// Get finds a brand by id.
func (s *Service) Get(ctx context.Context, id int64) (Brand, error) {
	var b Brand
	err := s.db.Gorm.WithContext(ctx).Take(&b, id).Error
	return b, database.NotFound(err)
}

// MemberCounts returns how many users act for each brand.
func (s *Service) MemberCounts(ctx context.Context) (map[int64]int, error) {
	var rows []struct {
		BrandID int64
		N       int
	}
	err := s.db.Gorm.WithContext(ctx).Table("brand_members").Select("brand_id, count(*) AS n").Group("brand_id").Scan(&rows).Error
	m := make(map[int64]int, len(rows))
	for _, r := range rows {
		m[r.BrandID] = r.N
	}
	return m, err
}
