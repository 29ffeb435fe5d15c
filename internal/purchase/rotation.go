package purchase

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/role"
	"spotcheck/internal/shop"
	"spotcheck/internal/valid"
)

// The rotation rules: a volunteer or persona that bought from a shop, or
// from any shop linked to it, within the window is not sent there again
// (the seller may recognise them); a burned persona is never used; a
// paused volunteer gets no new purchases.

// Block says why a volunteer or persona cannot take this purchase.
type Block struct {
	Reason string // catalog key: rotation.*
	Case   string // the earlier case that blocks, if any
	At     time.Time
}

// used is an earlier purchase within the window on the shop's network.
type used struct {
	VolunteerID int64
	PersonaID   int64
	Reference   string
	ShopID      int64
	CreatedAt   time.Time
}

// recentOnNetwork lists the purchases made on shopID's network (the shop
// and every shop linked to it) since the window opened.
func (s *Service) recentOnNetwork(tx *gorm.DB, shopID int64) ([]used, error) {
	group, err := shop.Group(tx, shopID)
	if err != nil {
		return nil, err
	}
	var us []used
	err = tx.Table("purchases p").Select("p.volunteer_id, p.persona_id, c.reference, p.shop_id, p.created_at").
		Joins("JOIN cases c ON c.id = p.case_id").
		Where("p.shop_id IN ? AND p.created_at > ?", group, s.db.Now().Add(-s.window)).
		Order("p.created_at DESC").Scan(&us).Error
	return us, err
}

func blockFor(us []used, match func(used) bool, reason string) *Block {
	for _, u := range us {
		if match(u) {
			return &Block{Reason: reason, Case: u.Reference, At: u.CreatedAt}
		}
	}
	return nil
}

// checkBuyer enforces the rules for one volunteer and persona, holding
// both rows locked so two orders at once cannot both pass.
func (s *Service) checkBuyer(tx *gorm.DB, shopID, volunteerID, personaID int64) error {
	lock := tx.Model(&Volunteer{}).Where("user_id = ?", volunteerID).Update("region", gorm.Expr("region"))
	if lock.Error != nil {
		return lock.Error
	}
	var v struct {
		Role     role.Role
		Disabled bool
		Paused   bool
	}
	err := tx.Table("users u").Select("u.role, u.disabled_at IS NOT NULL AS disabled, v.paused_at IS NOT NULL AS paused").
		Joins("JOIN volunteers v ON v.user_id = u.id").Where("u.id = ?", volunteerID).Take(&v).Error
	if err != nil || v.Role != role.Volunteer || v.Disabled {
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		return valid.Errors{"volunteer": "error.volunteer_invalid"}
	}
	if v.Paused {
		return valid.Errors{"volunteer": "error.rotation_paused"}
	}
	var p Persona
	if err := tx.Where("id = ? AND volunteer_id = ?", personaID, volunteerID).Take(&p).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return valid.Errors{"persona": "error.persona_invalid"}
		}
		return err
	}
	if p.BurnedAt != nil {
		return valid.Errors{"persona": "error.rotation_burned"}
	}
	us, err := s.recentOnNetwork(tx, shopID)
	if err != nil {
		return err
	}
	if b := blockFor(us, func(u used) bool { return u.VolunteerID == volunteerID }, ""); b != nil {
		return valid.Errors{"volunteer": "error.rotation_volunteer_used"}
	}
	if b := blockFor(us, func(u used) bool { return u.PersonaID == personaID }, ""); b != nil {
		return valid.Errors{"persona": "error.rotation_persona_used"}
	}
	return nil
}

// Candidate is a volunteer as the assignment screen offers them.
type Candidate struct {
	Pool
	RegionMatch bool
	Blocks      []Block // why the volunteer cannot take it; empty: they can
	Personas    []PersonaOption
}

// PersonaOption is one of a candidate's personas and why it is blocked.
type PersonaOption struct {
	Persona
	Block *Block
}

// Usable reports whether the candidate can take the purchase at all.
func (c Candidate) Usable() bool { return len(c.Blocks) == 0 }

// Candidates ranks the volunteers for a purchase on caseID's shop: usable
// first, then those in the wanted region, the least busy, the best record.
func (s *Service) Candidates(ctx context.Context, shopID int64, region string) ([]Candidate, error) {
	pool, err := s.ListPool(ctx)
	if err != nil {
		return nil, err
	}
	db := s.db.Gorm.WithContext(ctx)
	us, err := s.recentOnNetwork(db, shopID)
	if err != nil {
		return nil, err
	}
	var personas []Persona
	if err := db.Order("id").Find(&personas).Error; err != nil {
		return nil, err
	}
	out := make([]Candidate, 0, len(pool))
	for _, p := range pool {
		if p.Disabled {
			continue
		}
		c := Candidate{Pool: p, RegionMatch: region != "" && p.Region == region}
		if p.Paused {
			c.Blocks = append(c.Blocks, Block{Reason: "error.rotation_paused"})
		}
		if b := blockFor(us, func(u used) bool { return u.VolunteerID == p.UserID }, "error.rotation_volunteer_used"); b != nil {
			c.Blocks = append(c.Blocks, *b)
		}
		usable := 0
		for _, ps := range personas {
			if ps.VolunteerID != p.UserID {
				continue
			}
			o := PersonaOption{Persona: ps}
			if ps.BurnedAt != nil {
				o.Block = &Block{Reason: "error.rotation_burned", At: *ps.BurnedAt}
			} else {
				o.Block = blockFor(us, func(u used) bool { return u.PersonaID == ps.ID }, "error.rotation_persona_used")
			}
			if o.Block == nil {
				usable++
			}
			c.Personas = append(c.Personas, o)
		}
		if usable == 0 {
			c.Blocks = append(c.Blocks, Block{Reason: "error.rotation_no_persona"})
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b Candidate) int {
		return cmp.Or(
			cmpBool(a.Usable(), b.Usable()),
			cmpBool(a.RegionMatch, b.RegionMatch),
			cmp.Compare(a.Active, b.Active),
			cmp.Compare(b.Completed, a.Completed),
			cmp.Compare(a.Cancelled, b.Cancelled),
		)
	})
	return out, nil
}

// cmpBool orders true first.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}
