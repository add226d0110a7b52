package email_test

import (
	"context"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast/email/smtptest"
)

// BenchmarkSend measures one alert email to a loopback SMTP server: a connection, the
// TLS handshake (STARTTLS or implicit) and AUTH PLAIN, or neither (plain), one
// message, QUIT. It bounds what
// one sender slot can do; the relay's own limits (delivery.rates.email) usually bind first.
func BenchmarkSend(b *testing.B) {
	for _, mode := range []string{smtptest.Plain, smtptest.StartTLS, smtptest.Implicit} {
		b.Run(mode, func(b *testing.B) {
			opt := smtptest.Options{TLS: mode, Username: "optimum", Password: "pw"}
			if mode == smtptest.Plain {
				opt.Username, opt.Password = "", "" // a password is never sent in clear
			}
			srv := smtptest.New(b, opt)
			s := senderTB(b, srv, "")
			m := alert("es")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Send(context.Background(), m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mails/s")
		})
	}
}
