package a

import "gorm.io/gorm"

type row struct{ ID int64 }

func dropped(db *gorm.DB) {
	var n int64
	db.Model(&row{}).Count(&n)                       // want `GORM chain's \*gorm.DB is dropped`
	db.Model(&row{}).Where("id = ?", 1).Updates(nil) // want `GORM chain's \*gorm.DB is dropped`
	db.First(&row{})                                 // want `GORM chain's \*gorm.DB is dropped`
	defer db.Exec("DROP TABLE t")                    // want `deferred GORM chain's \*gorm.DB is dropped`
	go db.Exec("VACUUM")                             // want `go GORM chain's \*gorm.DB is dropped`
	_ = db.Rollback()                                // want `blank-assigned GORM chain's \*gorm.DB is dropped`
}

func checked(db *gorm.DB) error {
	var n int64
	if err := db.Model(&row{}).Count(&n).Error; err != nil {
		return err
	}
	res := db.Model(&row{}).Updates(nil)
	if res.Error != nil {
		return res.Error
	}
	q := db.Where("id = ?", 1) // a query built up, run below
	_ = q.First(&row{}).Error
	return db.Transaction(func(tx *gorm.DB) error {
		return tx.Exec("SELECT 1").Error
	})
}

func returned(db *gorm.DB) *gorm.DB { return db.Where("id = ?", 1) }
