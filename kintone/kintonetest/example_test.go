package kintonetest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/kintone/kintonetest"
)

// Example shows a lost response: the write commits, the connection drops,
// and the retried upsert updates the record instead of duplicating it.
func Example() {
	srv := kintonetest.NewServer()
	defer srv.Close()
	app := srv.AddApp("acme", kintonetest.AppConfig{APIToken: "test-token"})

	client, err := kintone.NewClient(&kintone.Config{
		BaseURL:               app.URL(),
		AppID:                 app.ID(),
		APIToken:              "test-token",
		AllowInsecureLoopback: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultDropAfterCommit, Op: "upsert"})
	_, _, err = client.Upsert(ctx, "call_id", "c-1", kintone.Record{"duration_seconds": 60})
	fmt.Println("first attempt:", kintone.Classify(err))

	id, created, err := client.Upsert(ctx, "call_id", "c-1", kintone.Record{"duration_seconds": 60})
	fmt.Println("retry:", id, created, err)
	fmt.Println("records:", len(app.Records()), "upsert requests:", app.Requests("upsert"))
	// Output:
	// first attempt: retryable
	// retry: 1 false <nil>
	// records: 1 upsert requests: 2
}
