package store

// userPerson is the SQL expression of the directory person a user row is: the person
// it was linked to by id, or else the person with the user's email (users are linked to
// the directory by email, so person_id is usually NULL). alias names the users row in the
// query ("users", "u"). Every query that goes from a user to a person uses this, so a
// user is the same person everywhere: signed in, told their folio, asked a question.
func userPerson(alias string) string {
	return "COALESCE(" + alias + ".person_id, (SELECT up.id FROM people up WHERE up.email = " + alias + ".email))"
}

// userColumns are the columns scanUser reads, from the users table.
var userColumns = userColumnsOf("users")

// userColumnsOf are the columns scanUser reads, from the users row called alias.
func userColumnsOf(alias string) string {
	a := alias + "."
	return a + "id, " + a + "email, " + a + "name, " + a + "role, " + a + "password_hash, " + userPerson(alias) + ", " +
		a + "created_at, " + a + "updated_at, " + a + "disabled_at, " + a + "scope"
}
