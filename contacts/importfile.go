package contacts

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum/internal/csvsafe"
	"go.yaml.in/yaml/v3"
)

// MaxImportRows is the most people one import may hold. A larger directory is imported in
// several files, so one import never holds the database for long during a crisis.
const MaxImportRows = 20000

// Row is one person of an import file, with the line it came from.
type Row struct {
	Line  int
	Input PersonInput
}

// RowError is one problem of an import file: the line, the field and what is wrong.
type RowError struct {
	Line    int    `json:"line"`
	Email   string `json:"email,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FileError is a problem with an import file as a whole: its encoding, header or size.
type FileError struct{ Message string }

func (e *FileError) Error() string { return e.Message }

// CSVHeader is the header an import CSV must have (in any order); external_id and
// time_zone are optional extra columns.
var CSVHeader = []string{"name", "email", "phone", "language", "teams", "manager_email"}

var optionalColumns = []string{"external_id", "time_zone", "active", "sites"}

// ParseCSV reads a directory CSV: UTF-8 with or without a BOM, the header of CSVHeader,
// one person a row, teams separated by ";" with an optional ":role" (technology:lead).
func ParseCSV(r io.Reader) ([]Row, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	data, err = utf8Text(data)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &FileError{"The file is empty; the first line must be the header " + strings.Join(CSVHeader, ",") + "."}
	} else if err != nil {
		return nil, &FileError{fmt.Sprintf("The header is not valid CSV: %v.", err)}
	}
	col := map[string]int{}
	var unknown []string
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(CSVHeader, h) && !slices.Contains(optionalColumns, h) {
			unknown = append(unknown, h)
			continue
		}
		if _, dup := col[h]; dup {
			return nil, &FileError{fmt.Sprintf("The header names the column %q twice.", h)}
		}
		col[h] = i
	}
	var missing []string
	for _, h := range CSVHeader {
		if _, ok := col[h]; !ok {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 || len(unknown) > 0 {
		msg := "The header must be " + strings.Join(CSVHeader, ",") + " (optional: " + strings.Join(optionalColumns, ", ") + ")."
		if len(missing) > 0 {
			msg += " Missing: " + strings.Join(missing, ", ") + "."
		}
		if len(unknown) > 0 {
			msg += " Unknown: " + strings.Join(unknown, ", ") + "."
		}
		return nil, &FileError{msg}
	}
	var rows []Row
	for {
		line, _ := cr.FieldPos(0)
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &FileError{fmt.Sprintf("Line %d is not valid CSV: %v.", line, unwrapCSV(err))}
		}
		line, _ = cr.FieldPos(0)
		if len(rows) >= MaxImportRows {
			return nil, &FileError{fmt.Sprintf("The file has more than %d people; split it into several files.", MaxImportRows)}
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return csvsafe.Restore(rec[i]) // an export's defused cells import back as they were
			}
			return ""
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue // a blank line
		}
		in := PersonInput{
			ExternalID: get("external_id"), Name: get("name"), Email: get("email"), Phone: get("phone"),
			Language: get("language"), TimeZone: get("time_zone"), ManagerEmail: get("manager_email"),
			Teams: parseTeams(get("teams")),
		}
		if v := strings.ToLower(strings.TrimSpace(get("active"))); v != "" {
			active := !(v == "false" || v == "no" || v == "0")
			in.Active = &active
		}
		if _, ok := col["sites"]; ok {
			// Sites separated by ";", the primary first; an empty cell clears them.
			in.Sites = cleanSites(strings.Split(get("sites"), ";"))
		}
		rows = append(rows, Row{Line: line, Input: in})
	}
	return rows, nil
}

func unwrapCSV(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseTeams reads "technology:lead; operations" into memberships.
func parseTeams(cell string) []Membership {
	var out []Membership
	for _, part := range strings.Split(cell, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		team, role, _ := strings.Cut(part, ":")
		out = append(out, Membership{Team: strings.TrimSpace(team), Role: strings.TrimSpace(role)})
	}
	return out
}

// utf8Text strips a UTF-8 BOM and refuses anything that is not UTF-8, saying what it
// looks like instead, since spreadsheets often save CSV as UTF-16 or Windows-1252.
func utf8Text(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return nil, &FileError{"The file is UTF-16; save it as \"CSV UTF-8\" and import it again."}
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:invalidAt(data)], []byte("\n"))
		return nil, &FileError{fmt.Sprintf("The file is not UTF-8 (line %d has a byte that is not; it looks like Latin-1 or Windows-1252). Save it as \"CSV UTF-8\" and import it again.", line)}
	}
	return data, nil
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// File is a directory in YAML: teams, services and people (see configs/contacts.example.yaml).
type File struct {
	Sites    []SiteInput    `yaml:"sites"`
	Teams    []TeamInput    `yaml:"teams"`
	Services []ServiceInput `yaml:"services"`
	People   []Row          `yaml:"-"`
}

// TeamInput is a team as written in a file or form.
type TeamInput struct {
	ID     string `json:"id" yaml:"id"`
	NameES string `json:"name_es" yaml:"name_es"`
	NameEN string `json:"name_en" yaml:"name_en"`
	// Sites are where the team works, by site id or name; nil keeps the team's sites.
	Sites []string `json:"sites" yaml:"sites"`
}

// ServiceInput is a service as written in a file or form.
type ServiceInput struct {
	ID        string `json:"id" yaml:"id"`
	Name      string `json:"name" yaml:"name"`
	OwnerTeam string `json:"owner_team" yaml:"owner_team"`
}

// yamlPerson is a person in a YAML file: as PersonInput, with teams written as strings.
type yamlPerson struct {
	ExternalID   string   `yaml:"external_id"`
	Name         string   `yaml:"name"`
	Email        string   `yaml:"email"`
	Phone        string   `yaml:"phone"`
	Language     string   `yaml:"language"`
	TimeZone     string   `yaml:"time_zone"`
	ManagerEmail string   `yaml:"manager_email"`
	Teams        []string `yaml:"teams"`
	Active       *bool    `yaml:"active"`
	Sites        []string `yaml:"sites"` // the primary first; absent keeps the person's sites
}

// ParseYAML reads a directory in YAML. Teams of a person are written "team" or
// "team:role", as in the CSV.
func ParseYAML(data []byte) (File, error) {
	data, err := utf8Text(data)
	if err != nil {
		return File{}, err
	}
	var doc struct {
		Sites    []SiteInput    `yaml:"sites"`
		Teams    []TeamInput    `yaml:"teams"`
		Services []ServiceInput `yaml:"services"`
		People   []yaml.Node    `yaml:"people"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return File{}, &FileError{fmt.Sprintf("The YAML is not valid: %v.", err)}
	}
	f := File{Sites: doc.Sites, Teams: doc.Teams, Services: doc.Services}
	if len(doc.People) > MaxImportRows {
		return File{}, &FileError{fmt.Sprintf("The file has more than %d people; split it into several files.", MaxImportRows)}
	}
	for _, n := range doc.People {
		var p yamlPerson
		if err := decodeStrict(&n, &p); err != nil {
			return File{}, &FileError{fmt.Sprintf("Line %d: %v.", n.Line, err)}
		}
		f.People = append(f.People, Row{Line: n.Line, Input: PersonInput{
			ExternalID: p.ExternalID, Name: p.Name, Email: p.Email, Phone: p.Phone, Language: p.Language,
			TimeZone: p.TimeZone, ManagerEmail: p.ManagerEmail, Teams: parseTeams(strings.Join(p.Teams, ";")), Active: p.Active,
			Sites: p.Sites,
		}})
	}
	return f, nil
}

// WriteCSV writes people in the import format, so an export imports back unchanged.
func WriteCSV(w io.Writer, people []Person, emailOf func(personID string) string) error {
	cw := csvsafe.NewWriter(w)
	header := append(append([]string{}, CSVHeader...), optionalColumns...)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, p := range people {
		var teams []string
		for _, m := range p.Memberships {
			if m.Role == RoleMember {
				teams = append(teams, m.Team)
			} else {
				teams = append(teams, m.Team+":"+m.Role)
			}
		}
		active := "true"
		if !p.Active {
			active = "false"
		}
		rec := []string{p.Name, p.Email, p.Phone, p.Language, strings.Join(teams, ";"), emailOf(p.ManagerID), p.ExternalID, p.TimeZone, active, strings.Join(p.Sites, ";")}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// decodeStrict decodes a node refusing unknown keys (Node.Decode has no such option).
func decodeStrict(n *yaml.Node, v any) error {
	data, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}
