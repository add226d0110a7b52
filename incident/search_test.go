package incident_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

func TestTermsFoldAccentsCasePluralsAndLanguages(t *testing.T) {
	same := [][]string{
		{"Inundación", "inundaciones", "INUNDACION"},
		{"servidor", "Servidores"},
		{"caída", "caídas", "Caido"},
		{"fire", "fires", "incendio", "Incendios"},
		{"flooding", "flooded", "floods"},
		{"battery", "batteries", "batería"},
		{"energía", "Energy", "power", "luz", "luces"},
		{"earthquake", "sismo", "terremotos"},
		{"servicio", "servicios"},
	}
	for _, group := range same {
		want := incident.Terms(group[0])
		for _, w := range group[1:] {
			if got := incident.Terms(w); !slices.Equal(got, want) || len(got) != 1 {
				t.Errorf("Terms(%q) = %v, want %v like %q", w, got, want, group[0])
			}
		}
	}
	if got := incident.Terms("de la the of ¿? ... !!"); len(got) != 0 {
		t.Errorf("stop words and punctuation gave %v", got)
	}
}

// pastIncidents is the search fixture: 56 Spanish and English incidents, each with a
// solution. The queries below must find their expected incident first.
var pastIncidents = []struct{ title, description, services, causes, resolution string }{
	{"Inundación en el sótano del edificio corporativo", "El agua de lluvia entró al cuarto eléctrico", "facilities", "lluvias intensas", "Se bombeó el agua y se selló la rampa"},
	{"Caída del servidor de correo", "Los usuarios no reciben correos desde las 9:00", "email", "disco lleno", "Se liberó espacio en el disco del servidor"},
	{"Ransomware en estaciones de contabilidad", "Archivos cifrados con extensión .lock", "erp,contabilidad", "phishing", "Se aislaron los equipos y se restauró desde respaldo"},
	{"Earthquake magnitude 7.1 felt in Mexico City", "Building evacuated, structural review pending", "facilities", "earthquake", "Structural engineer cleared the building"},
	{"Power outage at the Monterrey plant", "Mains power lost, generator did not start", "manufacturing", "generator fault", "Generator starter replaced"},
	{"Incendio en la cocina del comedor", "Humo en el piso 2, se activaron rociadores", "facilities", "freidora", "Bomberos sofocaron el fuego; se cambió la freidora"},
	{"Fallo del aire acondicionado en el CPD", "Temperatura de 35 grados en el pasillo caliente", "datacenter", "compresor", "Se reemplazó el compresor del chiller"},
	{"Datacenter network switch failure", "Core switch rebooting in a loop", "network", "firmware bug", "Rolled back the switch firmware"},
	{"Pandemia: ausentismo en el centro de llamadas", "40% del personal con síntomas", "call-center", "influenza", "Se activó el trabajo remoto y turnos de respaldo"},
	{"Phishing campaign targeting finance staff", "Fake invoices with malicious links", "email", "phishing", "Blocked the sender domain and reset passwords"},
	{"Caída del enlace de internet principal", "El proveedor reporta un corte de fibra", "network", "corte de fibra", "Se conmutó al enlace de respaldo"},
	{"Database replication lag on payments", "Replica is 2 hours behind the primary", "payments", "long transaction", "Killed the blocking transaction"},
	{"Fuga de agua en el techo del CPD", "Goteras sobre el rack 12", "datacenter", "impermeabilización", "Se reparó la impermeabilización del techo"},
	{"Elevator stuck with people inside", "Two people trapped on floor 5", "facilities", "mechanical", "Technician released the elevator"},
	{"Corte de energía en la sucursal Guadalajara", "Sin luz en toda la sucursal", "branches", "CFE", "Se restableció el suministro de CFE"},
	{"Ataque de denegación de servicio al portal", "Miles de solicitudes por segundo desde botnet", "portal", "DDoS", "Se activó la mitigación del CDN"},
	{"SSL certificate expired on the customer portal", "Browsers show a security warning", "portal", "expired certificate", "Renewed the certificate and automated renewal"},
	{"Robo de laptops en la oficina de Madrid", "Tres equipos sustraídos durante la noche", "facilities", "robo", "Se bloquearon los equipos y se cambiaron credenciales"},
	{"Flooding in the Houston warehouse", "Hurricane rain flooded the loading dock", "logistics", "hurricane", "Moved stock to the upper racks and pumped water out"},
	{"Falla del sistema de nómina", "La nómina no se calculó a tiempo", "payroll", "error de configuración", "Se corrigió la tabla de impuestos"},
	{"Printer jam on the third floor", "The shared printer does not print", "facilities", "paper jam", "Removed the jammed paper"},
	{"Caída del ERP por actualización fallida", "El ERP no inicia después del parche", "erp", "parche", "Se revirtió el parche del ERP"},
	{"Malware detected on a point of sale", "Antivirus flagged a card skimmer", "pos", "malware", "Reimaged the terminal and rotated keys"},
	{"Sismo de magnitud 6 en Oaxaca", "Daños menores en la sucursal", "branches", "sismo", "Revisión estructural sin daños mayores"},
	{"Telephony outage in the contact center", "Agents cannot receive calls", "call-center", "SIP trunk", "Carrier restored the SIP trunk"},
	{"Huelga de transportistas bloquea entregas", "Carreteras bloqueadas en el norte", "logistics", "huelga", "Se usaron rutas alternas"},
	{"Storage array degraded", "Two disks failed in the SAN", "storage", "disk failure", "Replaced the failed disks and rebuilt the RAID"},
	{"Pérdida de datos en el servidor de archivos", "Carpetas compartidas borradas por error", "files", "error humano", "Se restauró desde instantáneas"},
	{"Fire alarm false positive in the lobby", "Smoke detector triggered by dust", "facilities", "dust", "Cleaned the detector"},
	{"Suplantación de identidad del director", "Correo falso pidiendo transferencias", "email", "fraude", "Se alertó a finanzas y se bloqueó el dominio"},
	{"Payment gateway timeout", "Card payments failing at checkout", "payments", "provider outage", "Failed over to the secondary acquirer"},
	{"Corte de agua en el edificio", "Sin agua en baños y cocina", "facilities", "municipal", "Se contrató una pipa de agua"},
	{"VPN concentrator overloaded", "Remote staff cannot connect", "network", "capacity", "Added a second VPN concentrator"},
	{"Explosión de transformador frente a la oficina", "Apagón en la zona", "facilities", "transformador", "CFE reemplazó el transformador"},
	{"Active Directory replication failure", "Users cannot log in at the branches", "identity", "replication", "Forced replication and fixed DNS"},
	{"Bloqueo de cuentas masivo", "Cientos de usuarios bloqueados", "identity", "ataque de fuerza bruta", "Se bloquearon las IP atacantes"},
	{"Cooling failure in the London server room", "Temperature above 40 degrees", "datacenter", "hvac", "Portable coolers installed, HVAC repaired"},
	{"Fuga de gas en el laboratorio", "Olor a gas, se evacuó el piso", "facilities", "tubería", "Protección civil selló la tubería"},
	{"Backup job failures for a week", "Nightly backups silently failing", "backup", "expired credentials", "Updated the backup service account"},
	{"Manifestación frente al corporativo", "Accesos bloqueados", "facilities", "protesta", "Se habilitó el acceso trasero"},
	{"Ciberataque a la red de sucursales", "Tráfico anómalo hacia servidores externos", "network", "ciberataque", "Se segmentó la red y se limpiaron los equipos"},
	{"Hospital evacuation drill overrun", "The drill took twice the planned time", "facilities", "drill", "Updated the evacuation plan"},
	{"Falla de la planta de emergencia", "La planta no arrancó en la prueba mensual", "datacenter", "batería del motor", "Se cambió la batería de arranque"},
	{"DNS outage for internal names", "Intranet unreachable", "network", "DNS", "Restarted DNS servers and fixed zone"},
	{"Contagio masivo en la planta de Puebla", "Brote de enfermedad respiratoria", "manufacturing", "pandemia", "Se aplicó el protocolo sanitario"},
	{"Website defaced by attackers", "Home page replaced with a message", "portal", "cyberattack", "Restored the site and patched the CMS"},
	{"Caída de la aplicación móvil", "La app no abre en Android", "mobile", "versión defectuosa", "Se publicó una versión corregida"},
	{"Water leak in the server room ceiling", "Water dripping onto rack 4", "datacenter", "pipe", "Plumber fixed the pipe"},
	{"Tormenta eléctrica daña equipos", "Rayo impactó la antena", "network", "tormenta", "Se reemplazó el equipo dañado"},
	{"Supplier bankruptcy halts parts", "Key supplier stopped deliveries", "manufacturing", "supplier", "Qualified an alternate supplier"},
	{"Servidores de base de datos saturados", "CPU al 100% en el clúster", "database", "consulta ineficiente", "Se optimizó la consulta"},
	{"Landslide blocks access road", "Road to the plant closed", "logistics", "landslide", "Used the alternate road"},
	{"Caída del sistema de punto de venta", "Las tiendas no pueden cobrar", "pos", "actualización", "Se revirtió la actualización"},
	{"UPS batteries failed during test", "UPS runtime zero minutes", "datacenter", "old batteries", "Replaced the UPS batteries"},
	{"Fraude con tarjetas en el portal", "Compras con tarjetas robadas", "payments", "fraude", "Se activó 3-D Secure"},
	{"Heat wave overloads the office cooling", "Offices above 32 degrees", "facilities", "heat wave", "Rented portable air conditioners"},
}

func TestSimilarIncidentsRankTheExpectedMatchFirst(t *testing.T) {
	storetest.Each(t, testSimilarIncidentsRankTheExpectedMatchFirst)
}

func testSimilarIncidentsRankTheExpectedMatchFirst(t *testing.T) {
	f := newDesk(t)
	ctx := context.Background()
	folio := map[string]string{} // title → id
	for i, p := range pastIncidents {
		*f.now = t0.Add(time.Duration(i) * time.Minute)
		d := incident.Declaration{Title: p.title, Description: p.description, Services: strings.Split(p.services, ","),
			Causes: []string{p.causes}, Impact: incident.High, Urgency: incident.High}
		inc, _, err := f.svc.Declare(as(alice), d, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range []incident.Status{incident.StatusInvestigating, incident.StatusResolved} {
			note := ""
			if to == incident.StatusResolved {
				note = p.resolution
			}
			if _, err := f.desk.Transition(as(mia), inc.ID, to, note); err != nil {
				t.Fatal(err)
			}
		}
		folio[p.title] = inc.ID
	}
	if len(pastIncidents) < 50 {
		t.Fatalf("fixture has %d incidents, want at least 50", len(pastIncidents))
	}
	cases := []struct{ query, want string }{
		{"inundaciones en sotanos", "Inundación en el sótano del edificio corporativo"},
		{"SÓTANO INUNDADO", "Inundación en el sótano del edificio corporativo"},
		{"servidores de correo caídos", "Caída del servidor de correo"},
		{"email server down", "Caída del servidor de correo"},
		{"archivos cifrados ransomware contabilidad", "Ransomware en estaciones de contabilidad"},
		{"terremoto en la Ciudad de México, edificio evacuado", "Earthquake magnitude 7.1 felt in Mexico City"},
		{"sin energía en la planta Monterrey, generador", "Power outage at the Monterrey plant"},
		{"fire in the kitchen", "Incendio en la cocina del comedor"},
		{"core switches failing in the datacenter", "Datacenter network switch failure"},
		{"corte de fibra del proveedor de internet", "Caída del enlace de internet principal"},
		{"warehouse floods Houston", "Flooding in the Houston warehouse"},
		{"certificados SSL expirados portal", "SSL certificate expired on the customer portal"},
		{"baterías del UPS", "UPS batteries failed during test"},
		{"ola de calor oficinas", "Heat wave overloads the office cooling"},
		{"water leaking from the server room ceiling", "Water leak in the server room ceiling"},
		{"Goteras en el techo del CPD", "Fuga de agua en el techo del CPD"},
		{"fraudes con tarjetas robadas", "Fraude con tarjetas en el portal"},
		{"denial of service DDoS portal botnet", "Ataque de denegación de servicio al portal"},
		{"planta de emergencia no arranca", "Falla de la planta de emergencia"},
		{"contagios en Puebla", "Contagio masivo en la planta de Puebla"},
	}
	for _, c := range cases {
		ms, err := f.desk.Search(ctx, incident.Query{Text: c.query}, 5)
		if err != nil {
			t.Fatalf("%q: %v", c.query, err)
		}
		if len(ms) == 0 || ms[0].ID != folio[c.want] {
			got := []string{}
			for _, m := range ms {
				got = append(got, m.Title)
			}
			t.Errorf("%q ranked %q first, want %q", c.query, got, c.want)
			continue
		}
		if ms[0].Resolution == "" {
			t.Errorf("%q: the match has no solution", c.query)
		}
	}

	// From an incident: a new flood finds the past flood and shows how it was solved;
	// itself is never listed.
	*f.now = t0.Add(24 * time.Hour)
	inc, _, err := f.svc.Declare(as(alice), incident.Declaration{Title: "Inundaciones en sótano", Description: "Agua en el cuarto eléctrico tras lluvias", Impact: incident.High, Urgency: incident.High}, "")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := f.desk.Similar(ctx, inc.ID, 5)
	if err != nil || len(ms) == 0 || ms[0].ID != folio[pastIncidents[0].title] || ms[0].Resolution != pastIncidents[0].resolution {
		t.Fatalf("similar = %+v, %v", ms, err)
	}
	for _, m := range ms {
		if m.ID == inc.ID {
			t.Error("the incident is listed as similar to itself")
		}
	}
	// A known error's workaround is searchable and shown.
	if _, err := f.desk.MarkKnownError(as(mia), folio["Caída del ERP por actualización fallida"], "Revertir el parche desde la consola de administración"); err != nil {
		t.Fatal(err)
	}
	ms, err = f.desk.Search(ctx, incident.Query{Text: "consola de administración"}, 5)
	if err != nil || len(ms) == 0 || ms[0].KnownError == nil {
		t.Errorf("known error search = %+v, %v", ms, err)
	}
	if _, err := f.desk.Search(ctx, incident.Query{Text: "¿¡...!?"}, 5); optimum.ErrorCode(err) != optimum.EINVALID {
		t.Errorf("punctuation search: %v, want invalid", err)
	}
}
