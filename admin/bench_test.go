package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/koeiq/syncd/admin"
	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/settings"
)

// BenchmarkSyncLog reads pages of the sync log of a tenant with a million
// calls (SYNCD_BENCH_LOG_CALLS to change it) through the admin API: the
// first page is the baseline; a page 90% of the way down, found by keyset,
// should cost about the same, where OFFSET paging (measured in SQL for
// comparison) grows with the depth.
//
//	go test -run '^$' -bench SyncLog ./admin
func BenchmarkSyncLog(b *testing.B) {
	calls := 1_000_000
	if s := os.Getenv("SYNCD_BENCH_LOG_CALLS"); s != "" {
		var err error
		if calls, err = strconv.Atoi(s); err != nil || calls < 1000 {
			b.Fatalf("SYNCD_BENCH_LOG_CALLS=%q: want a number of at least 1000", s)
		}
	}
	ctx := context.Background()
	pool := pgtest.Pool(b)
	store := testsupport.NewStore(b, pool, settings.Config{})
	h, err := admin.NewHandler(&admin.Config{Pool: pool, Settings: store, JWTSecret: jwtSecret})
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range []string{"big", "small"} {
		if _, err := store.SetTenant(ctx, id, settings.TenantChange{}); err != nil {
			b.Fatal(err)
		}
	}
	// One call in 20 failed, one in 20 pending, the rest synced, 30 seconds
	// apart (a million calls in a year, 2,880 a day); and a small tenant
	// beside. VACUUM then does what autovacuum does to a live table.
	began := time.Now()
	if _, err := pool.Exec(ctx, `
		INSERT INTO sync_records (tenant_id, call_id, target, object_type, record_id, state, last_error, attempts,
			queued_outbox_id, created_at, updated_at)
		SELECT CASE WHEN i % 100 = 50 THEN 'small' ELSE 'big' END, 'c-' || md5(i::text), 'salesforce', 'Task',
			CASE WHEN i % 20 > 1 THEN '00T' || lpad(i::text, 15, '0') END,
			CASE i % 20 WHEN 0 THEN 'failed' WHEN 1 THEN 'pending' ELSE 'synced' END,
			CASE WHEN i % 20 = 0 THEN 'STRING_TOO_LONG: Subject: data value too large' END,
			1, i, now() - make_interval(secs => 30 * i), now()
		FROM generate_series(1, $1::int) AS i`, calls*100/99); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE sync_records"); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d calls of one tenant written in %v", calls, time.Since(began).Round(time.Millisecond))

	tok, err := admin.MintToken(jwtSecret, "big", admin.RoleAdmin, "bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	page := func(b *testing.B, query url.Values) string {
		req := httptest.NewRequest("GET", "/api/v1/calls?"+query.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", req.URL, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	// after returns the cursor of the log's row at depth (of state, if
	// given), as the page before it would have returned it.
	after := func(b *testing.B, state string, depth int) string {
		var at time.Time
		var callID, target string
		err := pool.QueryRow(ctx, `SELECT created_at, call_id, target FROM sync_records
			WHERE tenant_id = 'big' AND ($1 = '' OR state = $1)
			ORDER BY created_at DESC, call_id DESC, target DESC OFFSET $2 LIMIT 1`, state, depth-1).Scan(&at, &callID, &target)
		if err != nil {
			b.Fatal(err)
		}
		return admin.EncodeCursor(at, callID, target)
	}
	deep := calls * 9 / 10

	b.Run("first-page", func(b *testing.B) {
		for b.Loop() {
			page(b, url.Values{"limit": {"50"}})
		}
	})
	b.Run(fmt.Sprintf("keyset-at-%d", deep), func(b *testing.B) {
		q := url.Values{"limit": {"50"}, "after": {after(b, "", deep)}}
		for b.Loop() {
			page(b, q)
		}
	})
	b.Run("failed-first-page", func(b *testing.B) {
		for b.Loop() {
			page(b, url.Values{"limit": {"50"}, "state": {"failed"}})
		}
	})
	b.Run(fmt.Sprintf("failed-keyset-at-%d", deep/20), func(b *testing.B) {
		q := url.Values{"limit": {"50"}, "state": {"failed"}, "after": {after(b, "failed", deep/20)}}
		for b.Loop() {
			page(b, q)
		}
	})
	b.Run("search-prefix", func(b *testing.B) {
		for b.Loop() {
			page(b, url.Values{"limit": {"50"}, "q": {"c-a"}})
		}
	})
	b.Run("summary", func(b *testing.B) {
		req := func() {
			r := httptest.NewRequest("GET", "/api/v1/summary", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Fatalf("summary: %d %s", rec.Code, rec.Body)
			}
		}
		for b.Loop() {
			req()
		}
	})
	// For comparison: what OFFSET paging would cost at the same depth, in
	// SQL alone.
	b.Run(fmt.Sprintf("sql-offset-%d", deep), func(b *testing.B) {
		for b.Loop() {
			rows, err := pool.Query(ctx, `SELECT call_id FROM sync_records WHERE tenant_id = 'big'
				ORDER BY created_at DESC, call_id DESC, target DESC OFFSET $1 LIMIT 50`, deep)
			if err != nil {
				b.Fatal(err)
			}
			rows.Close()
		}
	})
}
