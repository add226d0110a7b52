-- Replies are matched to a person by phone, and a number belongs to one active person
-- (contacts/phones.go). Not UNIQUE: numbers shared before that rule must not stop the
-- server from starting; they are listed as a directory problem instead.
CREATE INDEX IF NOT EXISTS people_active_phone ON people (phone) WHERE active = 1 AND phone <> '';
