package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

// Create a Task in an org. Here the org is a salesforcetest server; against a
// real org, InstanceURL is its My Domain (https://acme.my.salesforce.com) and
// AllowInsecureLoopback stays false.
func ExampleNewClient() {
	ctx := context.Background()
	srv := salesforcetest.NewServer()
	defer srv.Close()
	org := srv.AddOrg("acme", salesforcetest.OrgConfig{ClientID: "consumer-key", ClientSecret: "consumer-secret"})

	client, err := salesforce.NewClient(&salesforce.Config{
		InstanceURL:           org.URL(),
		ClientID:              "consumer-key",
		ClientSecret:          "consumer-secret",
		AllowInsecureLoopback: true,
	})
	if err != nil {
		log.Fatal(err)
	}

	id, err := client.Create(ctx, "Task", salesforce.Fields{
		"Subject":               "KoeIQ Call — c-123",
		"Status":                "Completed",
		"TaskSubtype":           "Call",
		"ActivityDate":          "2026-01-15",
		"CallDurationInSeconds": 312,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created a Task:", len(id) == 18, id[:3])

	usage, _ := client.APIUsage()
	fmt.Printf("API usage: %d of %d\n", usage.Used, usage.Max)
	// Output:
	// created a Task: true 00T
	// API usage: 1 of 100000
}

// Decide what to do about an error with Classify.
func ExampleClassify() {
	ctx := context.Background()
	srv := salesforcetest.NewServer()
	defer srv.Close()
	org := srv.AddOrg("acme", salesforcetest.OrgConfig{ClientID: "id", ClientSecret: "secret"})
	client, err := salesforce.NewClient(&salesforce.Config{
		InstanceURL: org.URL(), ClientID: "id", ClientSecret: "secret", AllowInsecureLoopback: true,
	})
	if err != nil {
		log.Fatal(err)
	}

	org.InjectFault(salesforcetest.Fault{Op: "create", Kind: salesforcetest.FaultLockRow})
	for _, f := range []salesforce.Fields{
		{"Subject": "locked"},
		{"Subject": "bad", "CallType": "Sideways"},
		{"Subject": "fine"},
	} {
		_, err := client.Create(ctx, "Task", f)
		var ae *salesforce.APIError
		switch {
		case err == nil:
			fmt.Println("created")
		case errors.As(err, &ae):
			fmt.Println(salesforce.Classify(err), ae.ErrorCode, ae.Fields)
		}
	}
	// Output:
	// retryable UNABLE_TO_LOCK_ROW []
	// data INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST [CallType]
	// created
}

// Upsert by an external ID field: the first call creates the record, the
// next ones update it, so retries never make duplicates.
func ExampleClient_Upsert() {
	ctx := context.Background()
	srv := salesforcetest.NewServer()
	defer srv.Close()
	org := srv.AddOrg("acme", salesforcetest.OrgConfig{
		ClientID: "id", ClientSecret: "secret",
		Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")},
	})
	client, err := salesforce.NewClient(&salesforce.Config{
		InstanceURL: org.URL(), ClientID: "id", ClientSecret: "secret", AllowInsecureLoopback: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		r, err := client.Upsert(ctx, "Call_Recording__c", "call_id__c", "c-123",
			salesforce.Fields{"Name": "KoeIQ Call — c-123", "call_duration_seconds__c": 312})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("created:", r.Created)
	}
	fmt.Println("records:", len(org.Records("Call_Recording__c")))
	// Output:
	// created: true
	// created: false
	// records: 1
}

// Look up the Contacts and Leads on a phone number and the agent's User in
// one API request.
func ExampleClient_QueryMany() {
	ctx := context.Background()
	srv := salesforcetest.NewServer()
	defer srv.Close()
	org := srv.AddOrg("acme", salesforcetest.OrgConfig{ClientID: "id", ClientSecret: "secret"})
	org.PutRecord("Contact", salesforce.Fields{"LastName": "Lovelace", "MobilePhone": "+81312345678"})
	org.PutRecord("User", salesforce.Fields{"Username": "agent@acme.example.com", "LastName": "Agent", "Email": "agent@acme.example.com"})
	client, err := salesforce.NewClient(&salesforce.Config{
		InstanceURL: org.URL(), ClientID: "id", ClientSecret: "secret", AllowInsecureLoopback: true,
	})
	if err != nil {
		log.Fatal(err)
	}

	phone := salesforce.QuoteSOQL("+81312345678")
	results, err := client.QueryMany(ctx,
		"SELECT Id, LastName FROM Contact WHERE Phone = "+phone+" OR MobilePhone = "+phone+" ORDER BY LastModifiedDate DESC, Id",
		"SELECT Id FROM Lead WHERE IsConverted = false AND (Phone = "+phone+" OR MobilePhone = "+phone+")",
		"SELECT Id, IsActive FROM User WHERE Email = "+salesforce.QuoteSOQL("agent@acme.example.com"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("contacts:", len(results[0]), results[0][0]["LastName"])
	fmt.Println("leads:", len(results[1]))
	fmt.Println("users:", len(results[2]), results[2][0]["IsActive"])
	fmt.Println("requests:", org.RequestCounts())
	// Output:
	// contacts: 1 Lovelace
	// leads: 0
	// users: 1 true
	// requests: map[composite:1 token:1]
}
