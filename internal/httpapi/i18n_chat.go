package httpapi

// Spanish for the messages of team chats and outbound webhooks (chat.go, issue 17), kept
// apart from the main catalog so parallel work merges cleanly. Spanish addresses people
// as "tú".
func init() {
	catalog = append(catalog, compileCatalog([]phrase{
		{en: "The chat channel has errors.", es: "El canal de chat tiene errores."},
		{en: "The webhook has errors.", es: "El webhook tiene errores."},
		{en: "Chat channels and webhooks are not enabled on this server.", es: "Los canales de chat y los webhooks no están activados en este servidor."},
		{en: "There is no chat channel or webhook %s.", es: "No existe el canal de chat o webhook $1."},
		{en: "is not an absolute URL such as https://example.com/hook", es: "no es una URL absoluta como https://example.com/hook"},
		{en: "must not carry a user name or password", es: "no debe llevar usuario ni contraseña"},
		{en: "must be an https URL", es: "debe ser una URL https"},
		{en: "is only for Slack", es: "solo es para Slack"},
		{en: "give either url (an incoming webhook) or token and channel (chat.postMessage), not both",
			es: "indica url (un webhook entrante) o token y channel (chat.postMessage), no ambos"},
		{en: "is not a Slack bot token (xoxb-…)", es: "no es un token de bot de Slack (xoxb-…)"},
		{en: "is not a Slack channel id such as C0123456789", es: "no es un id de canal de Slack como C0123456789"},
		{en: "%q is not one of teams or slack", es: "$1 no es ninguno de estos valores: teams o slack"},
		{en: "%q is not one of es or en", es: "$1 no es ninguno de estos valores: es (español) o en (inglés)"},
		{en: "%q is not an event type; see docs/channels.md", es: "$1 no es un tipo de evento; consulta docs/channels.md"},
	})...)
}
