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

		// internal/httpapi/push.go: why a test push failed, without addresses or bodies.
		{en: "The endpoint is not a public push service; notifications are sent only to public ones over https.", es: "El destino no es un servicio de notificaciones público; solo se envían a servicios públicos por https."},
		{en: "The push service refused the notification (HTTP %d).", es: "El servicio de notificaciones rechazó el aviso (HTTP $1)."},
		{en: "The push service could not be reached; try again later.", es: "No se pudo contactar con el servicio de notificaciones; inténtalo más tarde."},
		{en: "The notification could not be sent.", es: "No se pudo enviar el aviso."},

		// internal/store/push.go: an endpoint registered to someone else.
		{en: "This browser's notifications are registered to another person; they must turn them off first, or subscribe this browser again.", es: "Las notificaciones de este navegador están registradas a nombre de otra persona; primero tiene que desactivarlas, o vuelve a suscribir este navegador."},

		// internal/httpapi/query.go: the bounds of list parameters.
		{en: "has %d values, at most %d", es: "tiene $1 valores; como máximo $2"},
		{en: "has %d more problems", es: "tiene $1 problemas más"},
		{en: "has a value longer than %d characters", es: "tiene un valor de más de $1 caracteres"},

		// drill/service.go: a schedule firing more often than drills.min_interval.
		{en: "fires every %s; drills may run at most once every %s", es: "se dispara cada $1; un simulacro puede ejecutarse como mucho una vez cada $2"},
	})...)
}
