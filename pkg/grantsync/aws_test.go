package grantsync

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TestConnectionsKeptForParallel: an account's HTTP client keeps as many
// idle connections as the run has calls in flight, so that no call beyond
// the SDK's default of 10 opens a connection of its own.
func TestConnectionsKeptForParallel(t *testing.T) {
	for _, parallel := range []int{4, 32} {
		a := &Accounts{Load: func(context.Context, string, Account) (aws.Config, string, error) {
			return aws.Config{HTTPClient: awshttp.NewBuildableClient()}, "test", nil
		}}
		a.inFlight(parallel)
		c, err := a.conn(context.Background(), "111122223333")
		if err != nil {
			t.Fatal(err)
		}
		bc, ok := c.cfg.HTTPClient.(*awshttp.BuildableClient)
		if !ok {
			t.Fatalf("the HTTP client is a %T", c.cfg.HTTPClient)
		}
		want := max(parallel, awshttp.DefaultHTTPTransportMaxIdleConnsPerHost)
		if got := bc.GetTransport().MaxIdleConnsPerHost; got != want {
			t.Errorf("--parallel %d: %d idle connections per host kept, want %d", parallel, got, want)
		}
	}
}
