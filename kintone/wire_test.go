package kintone_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/kintone"
)

// TestWireFormat checks each request against the documented Kintone API
// shape, independently of kintonetest.
func TestWireFormat(t *testing.T) {
	t.Parallel()

	type captured struct {
		method, path, query, contentType, token, body string
	}
	tests := []struct {
		name  string
		call  func(c *kintone.Client) error
		reply string
		want  captured
	}{
		{
			name: "add",
			call: func(c *kintone.Client) error {
				_, err := c.Add(context.Background(), kintone.Record{"call_id": "c-1", "n": 5})
				return err
			},
			reply: `{"id":"3","revision":"1"}`,
			want: captured{method: "POST", path: "/k/v1/record.json", contentType: "application/json",
				body: `{"app":7,"record":{"call_id":{"value":"c-1"},"n":{"value":"5"}}}`},
		},
		{
			name: "update",
			call: func(c *kintone.Client) error {
				return c.Update(context.Background(), "3", kintone.Record{"summary": nil})
			},
			reply: `{"revision":"2"}`,
			want: captured{method: "PUT", path: "/k/v1/record.json", contentType: "application/json",
				body: `{"app":7,"id":"3","record":{"summary":{"value":null}}}`},
		},
		{
			name: "upsert",
			call: func(c *kintone.Client) error {
				_, _, err := c.Upsert(context.Background(), "call_id", "c-1", kintone.Record{"call_id": "c-1", "tags": []string{"a"}})
				return err
			},
			reply: `{"records":[{"id":"3","revision":"2","operation":"UPDATE"}]}`,
			want: captured{method: "PUT", path: "/k/v1/records.json", contentType: "application/json",
				body: `{"app":7,"upsert":true,"records":[{"updateKey":{"field":"call_id","value":"c-1"},"record":{"tags":{"value":["a"]}}}]}`},
		},
		{
			name: "add many",
			call: func(c *kintone.Client) error {
				_, err := c.AddMany(context.Background(), []kintone.Record{{"call_id": "a"}, {"call_id": "b"}})
				return err
			},
			reply: `{"ids":["1","2"],"revisions":["1","1"]}`,
			want: captured{method: "POST", path: "/k/v1/records.json", contentType: "application/json",
				body: `{"app":7,"records":[{"call_id":{"value":"a"}},{"call_id":{"value":"b"}}]}`},
		},
		{
			name: "find",
			call: func(c *kintone.Client) error {
				_, err := c.FindIDs(context.Background(), "call_id", `c"1\`)
				return err
			},
			reply: `{"records":[],"totalCount":null}`,
			want: captured{method: "GET", path: "/k/v1/records.json",
				query: `app=7&fields%5B0%5D=%24id&query=call_id+%3D+%22c%5C%221%5C%5C%22+order+by+%24id+asc+limit+500`},
		},
		{
			name:  "fields",
			call:  func(c *kintone.Client) error { _, err := c.Fields(context.Background()); return err },
			reply: `{"properties":{},"revision":"1"}`,
			want:  captured{method: "GET", path: "/k/v1/app/form/fields.json", query: "app=7"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got captured
			url := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				got = captured{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("X-Cybozu-API-Token"), string(body)}
				mu.Unlock()
				io.WriteString(w, tt.reply)
			}))
			c, err := kintone.NewClient(&kintone.Config{BaseURL: url, AppID: 7, APIToken: testToken, AllowInsecureLoopback: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got.token != testToken {
				t.Errorf("X-Cybozu-API-Token = %q", got.token)
			}
			got.token = ""
			if tt.want.body != "" {
				if !jsonEqual(got.body, tt.want.body) {
					t.Errorf("body = %s, want %s", got.body, tt.want.body)
				}
				got.body, tt.want.body = "", ""
			}
			if got != tt.want {
				t.Errorf("request = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// TestMisbehavingServer checks that the client fails cleanly on answers
// Kintone would not give.
func TestMisbehavingServer(t *testing.T) {
	t.Parallel()

	page := func() string {
		var recs []string
		for i := 1; i <= 500; i++ {
			recs = append(recs, fmt.Sprintf(`{"$id":{"type":"__ID__","value":"%d"}}`, i))
		}
		return `{"records":[` + strings.Join(recs, ",") + `]}`
	}()
	addEmpty := func(c *kintone.Client) error {
		_, err := c.Add(context.Background(), kintone.Record{})
		return err
	}
	tests := []struct {
		name      string
		reply     string
		status    int
		call      func(c *kintone.Client) error
		wantClass crm.Class
	}{
		{"query ignoring the $id condition", page, 200, func(c *kintone.Client) error {
			_, err := c.FindIDs(context.Background(), "call_id", "x")
			return err
		}, crm.ClassRetryable},
		{"success that is not JSON", "<html>ok</html>", 200, addEmpty, crm.ClassRetryable},
		{"add without an ID", `{}`, 200, addEmpty, crm.ClassRetryable},
		{"upsert without records", `{"records":[]}`, 200, func(c *kintone.Client) error {
			_, _, err := c.Upsert(context.Background(), "call_id", "x", kintone.Record{})
			return err
		}, crm.ClassRetryable},
		{"add many with too few IDs", `{"ids":["1"]}`, 200, func(c *kintone.Client) error {
			_, err := c.AddMany(context.Background(), []kintone.Record{{}, {}})
			return err
		}, crm.ClassRetryable},
		{"error that is not JSON", "oops", 500, addEmpty, crm.ClassRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.reply)
			}))
			c, err := kintone.NewClient(&kintone.Config{BaseURL: url, AppID: 7, APIToken: testToken, AllowInsecureLoopback: true})
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(c)
			if err == nil {
				t.Fatal("want an error")
			}
			if got := kintone.Classify(err); got != tt.wantClass {
				t.Errorf("Classify(%v) = %v, want %v", err, got, tt.wantClass)
			}
		})
	}
}
