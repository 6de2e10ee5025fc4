package salesforcetest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

// A server with one org, a client for it, and what the org saw.
func ExampleServer() {
	srv := salesforcetest.NewServer()
	defer srv.Close()
	org := srv.AddOrg("acme", salesforcetest.OrgConfig{
		ClientID:      "consumer-key",
		ClientSecret:  "consumer-secret",
		DailyAPILimit: 15000,
	})

	client, err := salesforce.NewClient(&salesforce.Config{
		InstanceURL:           org.URL(), // http://127.0.0.1:PORT/org/acme
		ClientID:              "consumer-key",
		ClientSecret:          "consumer-secret",
		AllowInsecureLoopback: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, subject := range []string{"KoeIQ Call — c-1", "KoeIQ Call — c-2"} {
		if _, err := client.Create(ctx, "Task", salesforce.Fields{"Subject": subject, "Status": "Completed"}); err != nil {
			log.Fatal(err)
		}
	}

	for _, rec := range org.Records("Task") {
		fmt.Println(rec["Subject"], rec["Status"], rec["Priority"])
	}
	fmt.Println("token requests:", org.Requests("token"), "creates:", org.Requests("create"))
	used, limit := org.APIUsage()
	fmt.Println("api usage:", used, "of", limit)
	// Output:
	// KoeIQ Call — c-1 Completed Normal
	// KoeIQ Call — c-2 Completed Normal
	// token requests: 1 creates: 2
	// api usage: 2 of 15000
}

// Faults apply to the next requests of an operation: here a create whose
// answer is lost after the record was written.
func ExampleOrg_InjectFault() {
	srv := salesforcetest.NewServer()
	defer srv.Close()
	org := srv.AddOrg("acme", salesforcetest.OrgConfig{ClientID: "id", ClientSecret: "secret"})
	client, err := salesforce.NewClient(&salesforce.Config{
		InstanceURL: org.URL(), ClientID: "id", ClientSecret: "secret", AllowInsecureLoopback: true,
	})
	if err != nil {
		log.Fatal(err)
	}

	org.InjectFault(salesforcetest.Fault{Op: "create", Kind: salesforcetest.FaultDropAfterCommit})
	_, err = client.Create(context.Background(), "Task", salesforce.Fields{"Subject": "KoeIQ Call — c-1"})
	fmt.Println("class:", salesforce.Classify(err))
	fmt.Println("records:", len(org.Records("Task")))
	// Output:
	// class: retryable
	// records: 1
}
