package broadcast_test

import (
	"testing"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/bustest"
)

func TestLocalBusKeepsTheBusContract(t *testing.T) {
	bustest.Run(t, func(t *testing.T) (broadcast.Bus, broadcast.Bus) {
		b := broadcast.NewLocalBus()
		return b, b
	})
}
