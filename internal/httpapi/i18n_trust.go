package httpapi

// Spanish for the messages of issue 13's guards (phones, push endpoints, list limits,
// drill schedules), kept apart from the main catalog so parallel work merges cleanly.
// Spanish addresses people as "tú".
func init() {
	catalog = append(catalog, compileCatalog([]phrase{
		// contacts/phones.go, contacts/import.go: a number is one active person's.
		{en: "The phone number is another person's.", es: "El número de teléfono es de otra persona."},
		{en: "already belongs to another active person", es: "ya es de otra persona activa"},
		{en: "already belongs to %s, who is active", es: "ya es de $1, que está activa"},
		{en: "The file gives %d phone numbers to a second active person; nothing was imported.", es: "El archivo da $1 números de teléfono a una segunda persona activa; no se importó nada."},
		{en: "The phone %s belongs to more than one active person.", es: "El teléfono $1 es de más de una persona activa."},
	})...)
}
