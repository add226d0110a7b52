package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

// Contacts implements contacts.Store.
type Contacts struct{ db *DB }

// Contacts returns the directory store.
func (db *DB) Contacts() *Contacts { return &Contacts{db: db} }

var _ contacts.Store = (*Contacts)(nil)

// Tx runs fn in one write transaction.
func (s *Contacts) Tx(ctx context.Context, fn func(contacts.Tx) error) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error { return fn(contactsTx{tx}) })
}

type rowQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const personColumns = `id, external_id, name, email, phone, language, time_zone, manager_id, active,
	phone_verified_at, sms_opted_out_at, last_reached_at, created_at, updated_at,
	phone2, phone2_verified_at, contact_email, channel_order`

func scanPerson(row interface{ Scan(...any) error }) (contacts.Person, error) {
	var (
		p                           contacts.Person
		manager                     sql.NullString
		active                      int
		verified, optedOut, reached sql.NullInt64
		created, updated            int64
		verified2                   sql.NullInt64
		order                       string
	)
	err := row.Scan(&p.ID, &p.ExternalID, &p.Name, &p.Email, &p.Phone, &p.Language, &p.TimeZone, &manager, &active,
		&verified, &optedOut, &reached, &created, &updated, &p.Phone2, &verified2, &p.ContactEmail, &order)
	if err != nil {
		return p, err
	}
	p.Channels.Phone2VerifiedAt = timePtr(verified2)
	p.ChannelOrder = []string{}
	if order != "" {
		if err := json.Unmarshal([]byte(order), &p.ChannelOrder); err != nil {
			return p, fmt.Errorf("channel order of %s: %w", p.ID, err)
		}
	}
	p.ManagerID, p.Active = manager.String, active == 1
	p.Channels.PhoneVerifiedAt = timePtr(verified)
	p.Channels.SMSOptedOutAt = timePtr(optedOut)
	p.Channels.LastReachedAt = timePtr(reached)
	p.CreatedAt, p.UpdatedAt = fromMillis(created), fromMillis(updated)
	p.Teams, p.Memberships, p.Sites = []string{}, []contacts.Membership{}, []string{}
	return p, nil
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMillis(v.Int64)
	return &t
}

// loadPeople runs a people query and fills in their memberships.
func loadPeople(ctx context.Context, q rowQueryer, query string, args ...any) ([]contacts.Person, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("people: %w", err)
	}
	people := []contacts.Person{}
	pos := map[string]int{}
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("people: %w", err)
		}
		pos[p.ID] = len(people)
		people = append(people, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("people: %w", err)
	}
	if len(people) == 0 {
		return people, nil
	}
	mq := "SELECT person_id, team_id, role FROM team_members ORDER BY person_id, team_id"
	var margs []any
	if len(people) <= 500 {
		ph := make([]string, len(people))
		for i, p := range people {
			margs = append(margs, p.ID)
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		mq = "SELECT person_id, team_id, role FROM team_members WHERE person_id IN (" + strings.Join(ph, ", ") + ") ORDER BY person_id, team_id"
	}
	mrows, err := q.QueryContext(ctx, mq, margs...)
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var pid string
		var m contacts.Membership
		if err := mrows.Scan(&pid, &m.Team, &m.Role); err != nil {
			return nil, fmt.Errorf("memberships: %w", err)
		}
		if i, ok := pos[pid]; ok {
			people[i].Memberships = append(people[i].Memberships, m)
			people[i].Teams = append(people[i].Teams, m.Team)
		}
	}
	if err := mrows.Err(); err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	if err := withSites(ctx, q, people, pos, margs); err != nil {
		return nil, err
	}
	return withPushCounts(ctx, q, people, nil)
}

// People lists people matching the filter, by name.
func (s *Contacts) People(ctx context.Context, f contacts.Filter) ([]contacts.Person, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	list := func(vs []string) string {
		ph := make([]string, len(vs))
		for i, v := range vs {
			ph[i] = arg(v)
		}
		return strings.Join(ph, ", ")
	}
	if len(f.Teams) > 0 || len(f.Roles) > 0 {
		sub := "SELECT person_id FROM team_members WHERE 1 = 1"
		if len(f.Teams) > 0 {
			sub += " AND team_id IN (" + list(f.Teams) + ")"
		}
		if len(f.Roles) > 0 {
			sub += " AND role IN (" + list(f.Roles) + ")"
		}
		where = append(where, "id IN ("+sub+")")
	}
	if len(f.IDs) > 0 {
		where = append(where, "id IN ("+list(f.IDs)+")")
	}
	if f.Scope != nil {
		// In one of the scope's teams or at one of its sites (contacts/scope.go).
		or := []string{"1 = 0"}
		if len(f.Scope.Teams) > 0 {
			or = append(or, "id IN (SELECT person_id FROM team_members WHERE team_id IN ("+list(f.Scope.Teams)+"))")
		}
		if len(f.Scope.Sites) > 0 {
			or = append(or, "id IN (SELECT person_id FROM person_sites WHERE site_id IN ("+list(f.Scope.Sites)+"))")
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if len(f.Sites) > 0 {
		where = append(where, "id IN (SELECT person_id FROM person_sites WHERE site_id IN ("+list(f.Sites)+"))")
	}
	if f.Active != nil {
		where = append(where, "active = "+arg(boolInt(*f.Active)))
	}
	for _, w := range strings.Fields(strings.ToLower(f.Text)) {
		where = append(where, "(lower(name) || ' ' || email) LIKE "+arg("%"+escapeLike(w)+"%")+" ESCAPE '\\'")
	}
	if f.After != "" {
		var name string
		if err := s.db.read.QueryRowContext(ctx, "SELECT name FROM people WHERE id = $1", f.After).Scan(&name); err != nil {
			return nil, notFound(err, "The paging cursor %q is not a person id.", truncate(f.After, 60))
		}
		n, id := arg(name), arg(f.After)
		where = append(where, fmt.Sprintf("(name > %s OR (name = %s AND id > %s))", n, n, id))
	}
	q := "SELECT " + personColumns + " FROM people"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY name, id LIMIT " + arg(f.Limit)
	return loadPeople(ctx, s.db.read, q, args...)
}

// Person returns the person with the id or email.
func (s *Contacts) Person(ctx context.Context, idOrEmail string) (contacts.Person, error) {
	return getPerson(ctx, s.db.read, idOrEmail)
}

func getPerson(ctx context.Context, q rowQueryer, idOrEmail string) (contacts.Person, error) {
	people, err := loadPeople(ctx, q, "SELECT "+personColumns+" FROM people WHERE id = $1 OR email = $2", idOrEmail, strings.ToLower(idOrEmail))
	if err != nil {
		return contacts.Person{}, err
	}
	if len(people) == 0 {
		return contacts.Person{}, optimum.Errorf(optimum.ENOTFOUND, "Nobody in the directory has the id or email %q.", truncate(idOrEmail, 60))
	}
	return people[0], nil
}

// Teams lists the teams with their active member counts.
func (s *Contacts) Teams(ctx context.Context) ([]contacts.Team, error) { return teams(ctx, s.db.read) }

func teams(ctx context.Context, q rowQueryer) ([]contacts.Team, error) {
	// The active members are counted in one grouped pass, not a correlated count per team:
	// on PostgreSQL with stale statistics (right after a bulk import) the correlated form
	// was planned as a nested loop that took 57 s on 20,000 people.
	return teamsBy(ctx, q, `SELECT t.id, t.name_es, t.name_en, t.active, COALESCE(c.n, 0)
		FROM teams t LEFT JOIN (SELECT m.team_id, count(*) AS n FROM team_members m JOIN people p ON p.id = m.person_id
			WHERE p.active = 1 GROUP BY m.team_id) c ON c.team_id = t.id
		ORDER BY t.id`)
}

// teamRefs is teams without their member counts (Members 0): what an audience's
// references are checked against. Counting reads every membership, which at 100,000
// people was a good part of each declaration's time during an alert.
func teamRefs(ctx context.Context, q rowQueryer) ([]contacts.Team, error) {
	return teamsBy(ctx, q, `SELECT id, name_es, name_en, active, 0 FROM teams ORDER BY id`)
}

func teamsBy(ctx context.Context, q rowQueryer, query string) ([]contacts.Team, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	defer rows.Close()
	out := []contacts.Team{}
	for rows.Next() {
		var t contacts.Team
		var active int
		if err := rows.Scan(&t.ID, &t.NameES, &t.NameEN, &active, &t.Members); err != nil {
			return nil, fmt.Errorf("teams: %w", err)
		}
		t.Active = active == 1
		t.Sites = []string{}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	rows.Close()
	return out, withTeamSites(ctx, q, out)
}

// Services lists the catalogue.
func (s *Contacts) Services(ctx context.Context) ([]contacts.Service, error) {
	return services(ctx, s.db.read)
}

func services(ctx context.Context, q rowQueryer) ([]contacts.Service, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, name, owner_team, active FROM services ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	defer rows.Close()
	out := []contacts.Service{}
	for rows.Next() {
		var sv contacts.Service
		var active int
		if err := rows.Scan(&sv.ID, &sv.Name, &sv.OwnerTeam, &active); err != nil {
			return nil, fmt.Errorf("services: %w", err)
		}
		sv.Active = active == 1
		out = append(out, sv)
	}
	return out, rows.Err()
}

// Snapshot reads the whole directory from the read pool.
func (s *Contacts) Snapshot(ctx context.Context) (contacts.Snapshot, error) {
	tx, err := s.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return contacts.Snapshot{}, fmt.Errorf("snapshot: %w", err)
	}
	defer tx.Rollback()
	return snapshot(ctx, tx)
}

func snapshot(ctx context.Context, q rowQueryer) (contacts.Snapshot, error) {
	var (
		snap contacts.Snapshot
		err  error
	)
	if snap.People, err = loadPeople(ctx, q, "SELECT "+personColumns+" FROM people ORDER BY name, id"); err != nil {
		return snap, err
	}
	if snap.Teams, err = teams(ctx, q); err != nil {
		return snap, err
	}
	if snap.Services, err = services(ctx, q); err != nil {
		return snap, err
	}
	snap.Sites, err = sites(ctx, q)
	return snap, err
}

// SharedPhones lists the phone numbers more than one active person has, each with its
// holders, oldest first. Such numbers predate the rule that a number is one person's.
func (s *Contacts) SharedPhones(ctx context.Context) ([]contacts.SharedPhone, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT phone, id, name FROM people
		WHERE active = 1 AND phone IN (SELECT phone FROM people WHERE active = 1 AND phone <> '' GROUP BY phone HAVING count(*) > 1)
		ORDER BY phone, created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("shared phones: %w", err)
	}
	defer rows.Close()
	out := []contacts.SharedPhone{}
	for rows.Next() {
		var phone string
		var ref contacts.PersonRef
		if err := rows.Scan(&phone, &ref.ID, &ref.Name); err != nil {
			return nil, fmt.Errorf("shared phones: %w", err)
		}
		ref.Reason = "shares the phone with another active person"
		if n := len(out); n == 0 || out[n-1].Phone != phone {
			out = append(out, contacts.SharedPhone{Phone: phone})
		}
		out[len(out)-1].People = append(out[len(out)-1].People, ref)
	}
	return out, rows.Err()
}

// Analyze refreshes PostgreSQL's statistics of the directory's tables after a bulk
// import (contacts.Analyzer). SQLite plans these queries by their indexes alone.
func (s *Contacts) Analyze(ctx context.Context) error {
	if s.db.d.name != "postgres" {
		return nil
	}
	_, err := s.db.write.ExecContext(ctx, "ANALYZE people, team_members, person_sites, push_subscriptions")
	return err
}

// contactsTx implements contacts.Tx.
type contactsTx struct{ tx *eventTx }

func (t contactsTx) Snapshot(ctx context.Context) (contacts.Snapshot, error) {
	return snapshot(ctx, t.tx)
}

func (t contactsTx) Person(ctx context.Context, idOrEmail string) (contacts.Person, error) {
	return getPerson(ctx, t.tx, idOrEmail)
}

func (t contactsTx) SavePerson(ctx context.Context, p contacts.Person, isNew bool) error {
	manager := sql.NullString{String: p.ManagerID, Valid: p.ManagerID != ""}
	var err error
	if isNew {
		_, err = t.tx.ExecContext(ctx, `INSERT INTO people (id, external_id, name, email, phone, language, time_zone, manager_id, active,
			phone_verified_at, sms_opted_out_at, last_reached_at, created_at, updated_at,
			phone2, phone2_verified_at, contact_email, channel_order)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			p.ID, p.ExternalID, p.Name, p.Email, p.Phone, p.Language, p.TimeZone, manager, boolInt(p.Active),
			nullMillis(p.Channels.PhoneVerifiedAt), nullMillis(p.Channels.SMSOptedOutAt), nullMillis(p.Channels.LastReachedAt),
			millis(p.CreatedAt), millis(p.UpdatedAt),
			p.Phone2, nullMillis(p.Channels.Phone2VerifiedAt), p.ContactEmail, channelOrder(p.ChannelOrder))
	} else {
		_, err = t.tx.ExecContext(ctx, `UPDATE people SET external_id = $2, name = $3, email = $4, phone = $5, language = $6,
			time_zone = $7, manager_id = $8, active = $9, phone_verified_at = $10, sms_opted_out_at = $11, updated_at = $12,
			phone2 = $13, phone2_verified_at = $14, contact_email = $15, channel_order = $16
			WHERE id = $1`,
			p.ID, p.ExternalID, p.Name, p.Email, p.Phone, p.Language, p.TimeZone, manager, boolInt(p.Active),
			nullMillis(p.Channels.PhoneVerifiedAt), nullMillis(p.Channels.SMSOptedOutAt), millis(p.UpdatedAt),
			p.Phone2, nullMillis(p.Channels.Phone2VerifiedAt), p.ContactEmail, channelOrder(p.ChannelOrder))
	}
	if err != nil {
		return fmt.Errorf("save person: %w", err)
	}
	if p.Sites != nil {
		if err := t.savePersonSites(ctx, p, isNew); err != nil {
			return err
		}
	}
	if !isNew {
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM team_members WHERE person_id = $1", p.ID); err != nil {
			return fmt.Errorf("save person: %w", err)
		}
	}
	for _, m := range p.Memberships {
		if _, err := t.tx.ExecContext(ctx, "INSERT INTO team_members (team_id, person_id, role) VALUES ($1, $2, $3)", m.Team, p.ID, m.Role); err != nil {
			return fmt.Errorf("save membership: %w", err)
		}
	}
	return nil
}

func (t contactsTx) SaveTeam(ctx context.Context, tm contacts.Team, isNew bool) error {
	var err error
	if isNew {
		_, err = t.tx.ExecContext(ctx, "INSERT INTO teams (id, name_es, name_en, active, created_at) VALUES ($1, $2, $3, $4, $5)",
			tm.ID, tm.NameES, tm.NameEN, boolInt(tm.Active), millis(nowUTC()))
	} else {
		_, err = t.tx.ExecContext(ctx, "UPDATE teams SET name_es = $2, name_en = $3, active = $4 WHERE id = $1", tm.ID, tm.NameES, tm.NameEN, boolInt(tm.Active))
	}
	if err != nil {
		return fmt.Errorf("save team: %w", err)
	}
	if tm.Sites != nil {
		return t.saveTeamSites(ctx, tm)
	}
	return nil
}

func (t contactsTx) SaveService(ctx context.Context, sv contacts.Service, isNew bool) error {
	var err error
	if isNew {
		_, err = t.tx.ExecContext(ctx, "INSERT INTO services (id, name, owner_team, active) VALUES ($1, $2, $3, $4)", sv.ID, sv.Name, sv.OwnerTeam, boolInt(sv.Active))
	} else {
		_, err = t.tx.ExecContext(ctx, "UPDATE services SET name = $2, owner_team = $3, active = $4 WHERE id = $1", sv.ID, sv.Name, sv.OwnerTeam, boolInt(sv.Active))
	}
	if err != nil {
		return fmt.Errorf("save service: %w", err)
	}
	return nil
}

func (t contactsTx) Append(ctx context.Context, e optimum.Event) (int64, error) {
	return t.tx.appendEvent(ctx, e)
}

func nowUTC() time.Time { return time.Now().UTC() }

// channelOrder stores a person's order of channels as JSON, "" for the default.
func channelOrder(order []string) string {
	if len(order) == 0 {
		return ""
	}
	b, _ := json.Marshal(order)
	return string(b)
}

// SavePhoneCode stores a pending phone verification, replacing any other.
func (s *Contacts) SavePhoneCode(ctx context.Context, personID, phone, codeHash string, expires time.Time) error {
	_, err := s.db.write.ExecContext(ctx, `INSERT INTO phone_verifications (person_id, phone, code_hash, expires_at, attempts)
		VALUES ($1, $2, $3, $4, 0) ON CONFLICT (person_id) DO UPDATE SET phone = excluded.phone, code_hash = excluded.code_hash,
		expires_at = excluded.expires_at, attempts = 0`, personID, phone, codeHash, millis(expires))
	return err
}

// PhoneCode returns the pending code and counts this attempt.
func (s *Contacts) PhoneCode(ctx context.Context, personID string) (phone, codeHash string, expires time.Time, attempts int, err error) {
	var exp int64
	err = s.db.write.QueryRowContext(ctx, `UPDATE phone_verifications SET attempts = attempts + 1 WHERE person_id = $1
		RETURNING phone, code_hash, expires_at, attempts`, personID).Scan(&phone, &codeHash, &exp, &attempts)
	return phone, codeHash, fromMillis(exp), attempts, notFound(err, "No code is pending.")
}

// PhoneVerified marks the phone verified if it is still the person's, and forgets the code.
func (s *Contacts) PhoneVerified(ctx context.Context, personID, phone string, at time.Time, e optimum.Event) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		// The code was sent to the first or the second phone: whichever it still is.
		res, err := tx.ExecContext(ctx, `UPDATE people SET
			phone_verified_at = CASE WHEN phone = $2 THEN $3 ELSE phone_verified_at END,
			phone2_verified_at = CASE WHEN phone2 = $2 THEN $3 ELSE phone2_verified_at END,
			updated_at = $3 WHERE id = $1 AND (phone = $2 OR phone2 = $2)`, personID, phone, millis(at))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return optimum.Errorf(optimum.ECONFLICT, "The phone changed since the code was sent; ask for a new one.")
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM phone_verifications WHERE person_id = $1", personID); err != nil {
			return err
		}
		_, err = tx.appendEvent(ctx, e)
		return err
	})
}
