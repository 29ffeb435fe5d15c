-- +goose Up
-- PostgreSQL checks the references of flags and listings once per
-- statement instead of by foreign keys, and refuses deleting shops,
-- listings, brands and cases (see its 00009). SQLite keeps its foreign
-- keys and gains the same refusal.
-- +goose StatementBegin
CREATE TRIGGER shops_never_deleted BEFORE DELETE ON shops BEGIN SELECT RAISE(ABORT, 'rows of shops are never deleted'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER listings_never_deleted BEFORE DELETE ON listings BEGIN SELECT RAISE(ABORT, 'rows of listings are never deleted'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER brands_never_deleted BEFORE DELETE ON brands BEGIN SELECT RAISE(ABORT, 'rows of brands are never deleted'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER cases_never_deleted BEFORE DELETE ON cases BEGIN SELECT RAISE(ABORT, 'rows of cases are never deleted'); END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER cases_never_deleted;
DROP TRIGGER brands_never_deleted;
DROP TRIGGER listings_never_deleted;
DROP TRIGGER shops_never_deleted;
