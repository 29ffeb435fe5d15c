package purchase

import (
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// caseBuyer is a buyer's pseudonym on one case: what brands and the papers
// that leave the platform call them. It is stable within the case and
// drawn afresh on each case, so two cases' papers cannot tell that the same
// person bought both times.
type caseBuyer struct {
	CaseID      int64 `gorm:"primaryKey"`
	VolunteerID int64 `gorm:"primaryKey"`
	Pseudonym   string
	CreatedAt   time.Time
}

func (caseBuyer) TableName() string { return "case_buyers" }

// buyerTx gives the volunteer a pseudonym on the case the first time they
// buy on it (a later purchase on the same case keeps it).
func buyerTx(tx *gorm.DB, caseID, volunteerID int64, now time.Time) error {
	for range 8 { // a draw taken on this case already is drawn again
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&caseBuyer{CaseID: caseID, VolunteerID: volunteerID,
			Pseudonym: newPseudonym(), CreatedAt: now})
		if res.Error != nil {
			return res.Error
		}
		var n int64
		if err := tx.Model(&caseBuyer{}).Where("case_id = ? AND volunteer_id = ?", caseID, volunteerID).Count(&n).Error; err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
	}
	return gorm.ErrDuplicatedKey
}

// CasePseudonyms maps the buyers of a case (volunteer user ids) to their
// pseudonyms on it.
func CasePseudonyms(db *gorm.DB, caseID int64) (map[int64]string, error) {
	var rows []caseBuyer
	if err := db.Where("case_id = ?", caseID).Find(&rows).Error; err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(rows))
	for _, r := range rows {
		m[r.VolunteerID] = r.Pseudonym
	}
	return m, nil
}
