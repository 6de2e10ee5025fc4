package kintone_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/kintone/kintonetest"
)

// Example writes a call twice with Upsert, as a retried or re-analysed job
// would, and gets one record.
func Example() {
	// An in-memory Kintone stands in for https://acme.cybozu.com.
	srv := kintonetest.NewServer()
	defer srv.Close()
	app := srv.AddApp("acme", kintonetest.AppConfig{AppID: 42, APIToken: "example-token"})

	client, err := kintone.NewClient(&kintone.Config{
		BaseURL:               app.URL(), // in production: https://acme.cybozu.com
		AppID:                 42,
		APIToken:              "example-token",
		AllowInsecureLoopback: true, // only for the test server
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	rec := kintone.Record{
		"call_date":        "2025-04-01",
		"started_at":       "2025-04-01T18:30:00+09:00",
		"duration_seconds": 312,
		"direction":        "inbound",
		"summary":          "Customer asked about the March invoice.",
	}
	id, created, err := client.Upsert(ctx, "call_id", "c-123", rec)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first write:", id, "created:", created)

	rec["summary"] = "Re-analysed: invoice dispute resolved."
	id, created, err = client.Upsert(ctx, "call_id", "c-123", rec)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("second write:", id, "created:", created)

	stored, _ := app.Record(id)
	fmt.Println(len(app.Records()), "record:", stored["call_id"], stored["started_at"], stored["summary"])
	// Output:
	// first write: 1 created: true
	// second write: 1 created: false
	// 1 record: c-123 2025-04-01T09:30:00Z Re-analysed: invoice dispute resolved.
}

// ExampleClassify shows how a job decides what to do about a failure.
func ExampleClassify() {
	srv, app, client := exampleClient()
	defer srv.Close()
	ctx := context.Background()

	app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultRateLimit})
	_, _, err := client.Upsert(ctx, "call_id", "c-1", kintone.Record{"duration_seconds": 60})
	fmt.Println(kintone.Classify(err))

	_, _, err = client.Upsert(ctx, "call_id", "c-1", kintone.Record{"duration_seconds": "one minute"})
	fmt.Println(kintone.Classify(err))
	var apiErr *kintone.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.FieldCodes())
	}

	app.SetAPIToken("regenerated-token")
	_, _, err = client.Upsert(ctx, "call_id", "c-1", kintone.Record{"duration_seconds": 60})
	fmt.Println(kintone.Classify(err))
	// Output:
	// rate_limited
	// data
	// 400 CB_VA01 [duration_seconds]
	// auth
}

// ExampleValidateBaseURL normalises a tenant's Kintone address and refuses
// anything that is not Kintone.
func ExampleValidateBaseURL() {
	for _, raw := range []string{
		"https://Acme.cybozu.com/",
		"https://acme.s.cybozu.com:443",
		"https://acme.cybozu.com.evil.example",
		"https://169.254.169.254",
	} {
		u, err := kintone.ValidateBaseURL(raw, false)
		if err != nil {
			fmt.Println("refused:", raw)
			continue
		}
		fmt.Println(u)
	}
	// Output:
	// https://acme.cybozu.com
	// https://acme.s.cybozu.com
	// refused: https://acme.cybozu.com.evil.example
	// refused: https://169.254.169.254
}

// ExampleClient_Fields checks that an app has the fields syncd writes before
// any call is pushed.
func ExampleClient_Fields() {
	srv, _, client := exampleClient()
	defer srv.Close()

	fields, err := client.Fields(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	key := fields["call_id"]
	fmt.Println(key.Type, "required:", key.Required, "unique:", key.Unique, "max:", key.MaxLength)
	fmt.Println(fields["direction"].Options)
	// Output:
	// SINGLE_LINE_TEXT required: true unique: true max: 200
	// [inbound outbound internal]
}

// exampleClient starts an in-memory Kintone with one app and returns a client
// of that app, set up as in [Example].
func exampleClient() (*kintonetest.Server, *kintonetest.App, *kintone.Client) {
	srv := kintonetest.NewServer()
	app := srv.AddApp("acme", kintonetest.AppConfig{APIToken: "example-token"})
	client, err := kintone.NewClient(&kintone.Config{
		BaseURL: app.URL(), AppID: app.ID(), APIToken: "example-token", AllowInsecureLoopback: true,
	})
	if err != nil {
		srv.Close()
		log.Fatal(err)
	}
	return srv, app, client
}
