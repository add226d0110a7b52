package httpapi

// Spanish for the messages of email bounces (bounces.go, issue 17), kept apart from the
// main catalog so parallel work merges cleanly. Spanish addresses people as "tú".
func init() {
	catalog = append(catalog, compileCatalog([]phrase{
		{en: "Email is not enabled on this server.", es: "El correo no está activado en este servidor."},
		{en: "Send the bounce message as is, with Content-Type: message/rfc822.", es: "Envía el mensaje de rebote tal cual, con Content-Type: message/rfc822."},
		{en: "The message is not a delivery status notification (RFC 3464): no message/delivery-status part with a recipient.",
			es: "El mensaje no es un aviso de estado de entrega (RFC 3464): no tiene una parte message/delivery-status con un destinatario."},
		{en: "The bounce names no delivery of this server: neither its address (VERP) nor the returned Message-ID is ours.",
			es: "El rebote no corresponde a ningún envío de este servidor: ni su dirección (VERP) ni el Message-ID devuelto son nuestros."},
		{en: "The delivery %s is not an email.", es: "El envío $1 no es un correo."},
	})...)
}
