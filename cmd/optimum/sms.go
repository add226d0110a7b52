package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/vonage"
	"github.com/optimum-bcp/optimum/internal/config"
)

// smsProviders are the SMS and voice senders built from the configuration: each
// channel's Failover over the configured providers in order (nil when none is
// configured), and Vonage's own SMS sender, which answers replies that came through it.
type smsProviders struct {
	sms, voice *broadcast.Failover
	vonageSMS  broadcast.Sender
	close      []func() error
}

// newSMSProviders builds Twilio and Vonage clients as configured and puts them behind
// one Failover per channel, in the order of sms.providers.
func newSMSProviders(cfg config.Config, log *slog.Logger) (*smsProviders, error) {
	out := &smsProviders{}
	var smsList, voiceList []broadcast.Provider
	public := strings.TrimRight(cfg.Server.PublicURL, "/")
	for _, name := range cfg.SMSProviders() {
		switch name {
		case "twilio":
			tc, err := twilio.New(twilio.Config{
				AccountSID: cfg.Twilio.AccountSID, AuthToken: cfg.Twilio.AuthToken, From: cfg.Twilio.From,
				MessagingServiceSID: cfg.Twilio.MessagingServiceSID, APIURL: cfg.Twilio.APIURL,
				PublicURL: public, Transliterate: cfg.Twilio.Transliterate, Senders: cfg.Twilio.Senders,
			})
			if err != nil {
				return nil, fmt.Errorf("twilio: %w", err)
			}
			out.close = append(out.close, tc.Close)
			smsList = append(smsList, broadcast.Provider{Name: name, Sender: tc.SMS()})
			if len(cfg.Twilio.From) > 0 || cfg.Vonage.ApplicationID == "" {
				// Without a number Twilio cannot call (a Messaging Service sends SMS only):
				// calls go to Vonage when it can place them; otherwise Twilio stays the
				// voice sender, and each call fails with the reason, as before.
				voiceList = append(voiceList, broadcast.Provider{Name: name, Sender: tc.Voice()})
			}
		case "vonage":
			key, err := cfg.VonagePrivateKey()
			if err != nil {
				return nil, fmt.Errorf("vonage: the private key: %w", err)
			}
			vc, err := vonage.New(vonage.Config{
				APIKey: cfg.Vonage.APIKey, APISecret: cfg.Vonage.APISecret,
				SignatureSecret: cfg.Vonage.SignatureSecret, SignatureMethod: cfg.Vonage.SignatureMethod,
				ApplicationID: cfg.Vonage.ApplicationID, PrivateKeyPEM: key,
				From: cfg.Vonage.From, Senders: cfg.Vonage.Senders,
				SMSAPIURL: cfg.Vonage.SMSAPIURL, VoiceAPIURL: cfg.Vonage.VoiceAPIURL,
				PublicURL: public, Guard: cfg.OutboundGuard(),
			})
			if err != nil {
				return nil, err
			}
			out.close = append(out.close, vc.Close)
			out.vonageSMS = vc.SMS()
			smsList = append(smsList, broadcast.Provider{Name: name, Sender: vc.SMS()})
			if v := vc.Voice(); v != nil {
				voiceList = append(voiceList, broadcast.Provider{Name: name, Sender: v})
			}
		}
	}
	opt := broadcast.FailoverOptions{
		Threshold: cfg.SMS.Failover.Threshold, Window: time.Duration(cfg.SMS.Failover.Window),
		Cooldown: time.Duration(cfg.SMS.Failover.Cooldown), Now: clock, Logger: log,
	}
	if len(smsList) > 0 {
		out.sms = broadcast.NewFailover(smsList, opt)
	}
	if len(voiceList) > 0 {
		out.voice = broadcast.NewFailover(voiceList, opt)
	}
	return out, nil
}

// Close releases every provider's idle connections.
func (p *smsProviders) Close() {
	for _, c := range p.close {
		_ = c()
	}
}

// concerns are what /readyz reports while a provider is out of use on this node.
func (p *smsProviders) concerns(context.Context) []string {
	var out []string
	for ch, f := range map[string]*broadcast.Failover{"SMS": p.sms, "voice": p.voice} {
		if f == nil {
			continue
		}
		for _, d := range f.Down() {
			out = append(out, fmt.Sprintf("%s: %s is out of use after repeated failures until %s; sending through %s",
				ch, d.Name, d.Until.Format("15:04:05"), f.InUse()))
		}
	}
	slices.Sort(out)
	return out
}
