package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/admin"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/migrate"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// cmdDemo runs syncd end to end on this machine, with no credentials: it
// migrates a schema of its own (syncd_demo, dropped first if an earlier demo
// made it; any other schema is refused, see migrate.ResetScratch), starts the
// built-in Salesforce simulator and the daemon, creates a demo tenant, writes
// sample calls through syncd.enqueue as a pipeline would, shows progress
// while they sync, prints what ended up in Salesforce, and checks it. One
// call breaks the org's validation rule and fails with Salesforce's
// message, while the others sync. It fails when anything expected did not
// happen.
//
// With --serve it then keeps the simulator and the daemon running, serves
// the Salesforce Integration page and prints its address with a fresh
// Admin token, until Ctrl-C.
func cmdDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo")
	schema := fs.String("schema", "syncd_demo", "schema for the demo (created anew; only one an earlier demo made is dropped)")
	calls := fs.Int("calls", 30, "how many analysed calls to write")
	latency := fs.Duration("latency", 80*time.Millisecond, "simulated latency of each Salesforce request")
	serve := fs.Bool("serve", false, "keep running after the demo and serve the Salesforce Integration page, until Ctrl-C")
	listenAddr := fs.String("listen", "127.0.0.1:8080", "with --serve: the page's address")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *calls < 8 || *calls > 5000 {
		return fmt.Errorf("%w: --calls must be from 8 to 5000", errUsage)
	}
	// The database. The demo's own output tells the story: the log shows
	// warnings only.
	cfg, pool, err := connectScratch(ctx, e, *schema, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer pool.Close()
	logger := cfg.logger(e.stderr)
	out := e.stdout
	var database string
	if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&database); err != nil {
		return err
	}
	if err := migrate.ResetScratch(ctx, pool, *schema, "demo"); err != nil {
		return err
	}
	fmt.Fprintf(out, "syncd demo: database %s, schema %s (created anew)\n", database, *schema)
	if _, err := migrate.Up(ctx, pool, &migrate.Config{Schema: *schema, Logger: logger}); err != nil {
		return err
	}

	// The Salesforce simulator and the demo tenant.
	sim := salesforcetest.NewServer()
	defer sim.Close()
	clientSecret := secrets.GenerateKey() // any random string will do
	org := sim.AddOrg("demo", salesforcetest.OrgConfig{ClientID: "demo-consumer-key", ClientSecret: clientSecret, Latency: *latency})
	org.AddValidationRule(salesforcetest.ValidationRule{Object: "Task", Field: "Description", Contains: "card number",
		Message: demoRuleMessage, ErrorField: "Description"})
	fmt.Fprintf(out, "Salesforce simulator: %s (%s per request; a validation rule refuses card numbers in Comments)\n", org.URL(), *latency)

	key, err := secrets.ParseKey(cfg.secretKey)
	if cfg.secretKey == "" {
		key, err = secrets.ParseKey(secrets.GenerateKey()) // the demo's secrets die with it
	}
	if err != nil {
		return fmt.Errorf("SYNCD_SECRET_KEY: %w", err)
	}
	resume, err := jobs.ResumePushes(*schema)
	if err != nil {
		return err
	}
	store, err := settings.NewStore(pool, &settings.Config{Key: key, AllowInsecureURLs: true, AfterSave: resume})
	if err != nil {
		return err
	}
	// The tenant is named after the tool, so migrate.ResetScratch knows it
	// for the demo's own next time.
	if _, err := store.SetTenant(ctx, "demo", settings.TenantChange{
		Name: ptr("Demo Co."), AuditExportPack: ptr(true), AnalyticsEnabled: ptr(true), Timezone: ptr("Asia/Tokyo"),
		DefaultRegion: ptr("JP"),
	}); err != nil {
		return err
	}
	if _, err := store.SaveSalesforce(ctx, "demo", settings.SalesforceInput{
		Enabled: true, InstanceURL: org.URL(), ClientID: "demo-consumer-key", ClientSecret: &clientSecret, ObjectType: "Task",
		LinkWho: ptr(true), AssignOwner: ptr(true),
	}, "demo"); err != nil {
		return fmt.Errorf("save the demo tenant's Salesforce settings: %w", err)
	}
	// The people the calls are linked to: Contacts with some of the
	// callers' numbers, written as people type them, and the agents.
	for i := 1; i <= *calls; i += 3 {
		org.PutRecord("Contact", salesforce.Fields{"LastName": fmt.Sprintf("Caller %d", i), "Phone": fmt.Sprintf("03-1234-%04d", i)})
	}
	for _, agent := range demoAgents {
		org.PutRecord("User", salesforce.Fields{"LastName": agent, "Username": agent + "@demo.example", "Email": agent + "@demo.example", "IsActive": true})
	}
	fmt.Fprintln(out, `Tenant "demo": Audit & Export Pack, analytics on, Asia/Tokyo, Salesforce Task (credentials checked, secret stored encrypted),`+
		` calls linked to Contacts by phone (region JP) and owned by their agents`)

	// The daemon.
	client, err := jobs.NewClient(pool, &jobs.Config{Schema: *schema, Logger: logger, Settings: store})
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	}()

	// The pipeline.
	d := &demo{pool: pool, schema: *schema, out: out, started: time.Now()}
	if err := d.writeCalls(ctx, *calls); err != nil {
		return err
	}
	if err := d.waitSynced(ctx, "first push"); err != nil {
		return err
	}
	if err := d.reanalyse(ctx, "c-007"); err != nil {
		return err
	}
	if err := d.waitSynced(ctx, "re-analysis"); err != nil {
		return err
	}

	if err := d.printTable(ctx); err != nil {
		return err
	}
	problems := d.check(ctx, org)
	fmt.Fprintf(out, "\nSalesforce API requests: %v\n", org.RequestCounts())
	fmt.Fprintf(out, "River UI: `syncd run` serves it at http://127.0.0.1:9090/riverui/ (SYNCD_OPS_LISTEN); "+
		"to browse the demo's jobs: SYNCD_SCHEMA=%s SYNCD_SECRET_KEY=... go run ./cmd/syncd run\n", *schema)
	if len(problems) > 0 {
		return fmt.Errorf("demo failed: %s", strings.Join(problems, "; "))
	}
	fmt.Fprintf(out, "OK: every analysed call is exactly one Salesforce Task with its ID stored, "+
		"but %s, which Salesforce refused with its reason (%s)\n", d.refused, time.Since(d.started).Round(time.Millisecond))
	if !*serve {
		return nil
	}
	return serveDemo(ctx, cfg, pool, store, *listenAddr, out, logger)
}

// demoRuleMessage is the demo org's validation rule's message.
const demoRuleMessage = "Comments must not contain card numbers. Remove the number from the call summary in KoeIQ, then resync the call."

// serveDemo serves the Salesforce Integration page of the demo tenant until
// SIGINT or SIGTERM, while the caller's simulator and daemon keep running.
func serveDemo(ctx context.Context, cfg *config, pool *pgxpool.Pool, store *settings.Store, addr string, out io.Writer, logger *slog.Logger) error {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)

	secret := []byte(cfg.jwtSecret)
	if len(secret) == 0 {
		secret = []byte(secrets.GenerateKey()) // tokens die with the demo
	}
	h, err := admin.NewHandler(&admin.Config{Pool: pool, Settings: store, Schema: cfg.schema, JWTSecret: secret,
		JWTIssuer: cfg.jwtIssuer, JWTAudience: cfg.jwtAudience, Logger: logger})
	if err != nil {
		return err
	}
	token, err := (&admin.Token{TenantID: "demo", Role: admin.RoleAdmin, Subject: "admin@demo.example",
		Issuer: cfg.jwtIssuer, Audience: cfg.jwtAudience, TTL: 12 * time.Hour}).Sign(secret)
	if err != nil {
		return err
	}
	srv, err := listen(ctx, "admin page", addr, h, logger)
	if err != nil {
		return fmt.Errorf("%w (choose another address with --listen)", err)
	}
	defer srv.shutdown(context.WithoutCancel(ctx))
	fmt.Fprintf(out, "\nThe Salesforce Integration page of tenant \"demo\" (the link holds an Admin token valid for 12 hours):\n\n"+
		"    http://%s/admin/#token=%s\n\n"+
		"The simulator and the daemon keep running: save settings, send a test call, resync calls. Ctrl-C stops them.\n",
		srv.addr, token)
	select {
	case <-ctx.Done():
	case <-signals:
	}
	fmt.Fprintln(out, "stopping")
	return nil
}

func ptr[T any](v T) *T { return &v }

// demo is the pipeline side of the demo.
type demo struct {
	pool    *pgxpool.Pool
	schema  string
	out     io.Writer
	started time.Time

	analysed    []string // calls expected in Salesforce
	transcribed []string // calls with only an ignored transcription
	reanalysed  string
	newIntent   string
	refused     string // the call the org's validation rule refuses
}

var (
	demoAgents = []string{"sato", "tanaka", "suzuki"}
	intents    = []string{"quote request", "renewal", "billing question", "cancellation", "technical support", "予約の変更", "complaint 😠"}
	summary    = []string{
		"Customer asked for a quote for 40 seats and a discount for annual billing.",
		"Renewal confirmed; the customer wants the invoice sent to accounting.",
		"Billing question about a double charge; refund promised within 5 days.",
	}
)

// enqueue writes one event the way any pipeline does: SELECT syncd.enqueue
// inside its own transaction.
func (d *demo) enqueue(ctx context.Context, callID, event, payload string) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		// ... the pipeline marks the call analysed here ...
		_, err := tx.Exec(ctx, "SELECT "+pgx.Identifier{d.schema, "enqueue"}.Sanitize()+"(tenant_id => 'demo', call_id => $1, event => $2, payload => $3::jsonb)",
			callID, event, payload)
		return err
	})
}

func (d *demo) writeCalls(ctx context.Context, n int) error {
	base := time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC) // 08:30 the next day in Tokyo
	// The newest analysed call is the one the org refuses: the top of the
	// page's sync log.
	last := n
	if last%10 == 0 {
		last-- // only transcribed
	}
	d.refused = fmt.Sprintf("c-%03d", last)
	for i := 1; i <= n; i++ {
		callID := fmt.Sprintf("c-%03d", i)
		started := base.Add(time.Duration(i) * 7 * time.Minute).Format(time.RFC3339)
		text := summary[i%len(summary)]
		if callID == d.refused {
			text = "The customer read out a card number, 4111 1111 1111 1111, to pay the overdue invoice."
		}
		payload := fmt.Sprintf(`{"call_id": %q, "started_at": %q, "duration_seconds": %d, "direction": "inbound",
			"primary_intent": %q, "summary": %q, "quality_score": %d, "transcript_url": "https://app.koeiq.example/calls/%s",
			"customer_phone": "+81 3 1234 %04d", "agent_email": "%s@demo.example"}`,
			callID, started, 60+i*17, intents[i%len(intents)], text, 60+i%40, callID, i, demoAgents[i%len(demoAgents)])
		// The transcription comes first and is ignored: with analytics the
		// analysis creates the record.
		if err := d.enqueue(ctx, callID, "call.transcribed", payload); err != nil {
			return fmt.Errorf("enqueue %s: %w", callID, err)
		}
		if i%10 == 0 {
			d.transcribed = append(d.transcribed, callID) // not analysed (yet)
			continue
		}
		if err := d.enqueue(ctx, callID, "call.analysed", payload); err != nil {
			return fmt.Errorf("enqueue %s: %w", callID, err)
		}
		d.analysed = append(d.analysed, callID)
	}
	fmt.Fprintf(d.out, "Pipeline: wrote %d transcriptions and %d analyses through syncd.enqueue\n", n, len(d.analysed))

	// A bad row never reaches a worker: syncd.enqueue refuses it.
	err := d.enqueue(ctx, "c-bad", "call.analysed", `{"call_id": "c-bad", "started_at": "yesterday", "duration_seconds": 5}`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return fmt.Errorf("a bad payload was accepted: %v", err)
	}
	fmt.Fprintf(d.out, "Pipeline: a call with a bad field was refused: %s (column %s)\n", pgErr.Message, pgErr.ColumnName)
	return nil
}

func (d *demo) reanalyse(ctx context.Context, callID string) error {
	d.reanalysed, d.newIntent = callID, "upsell opportunity (re-analysed)"
	payload := fmt.Sprintf(`{"call_id": %q, "started_at": "2026-11-24T23:49:00Z", "duration_seconds": 300,
		"primary_intent": %q, "summary": "Re-analysed with a newer model.", "quality_score": 95}`, callID, d.newIntent)
	if err := d.enqueue(ctx, callID, "call.analysed", payload); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Pipeline: re-analysed %s\n", callID)
	return nil
}

// waitSynced shows progress until the outbox is dispatched and no call is
// pending.
func (d *demo) waitSynced(ctx context.Context, what string) error {
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := -1
	for {
		var synced, pending, failed, undispatched int
		err := d.pool.QueryRow(ctx, `SELECT
				count(*) FILTER (WHERE state = 'synced'),
				count(*) FILTER (WHERE state = 'pending'),
				count(*) FILTER (WHERE state = 'failed'),
				(SELECT count(*) FROM outbox WHERE dispatched_at IS NULL)
			FROM sync_records WHERE tenant_id = 'demo'`).Scan(&synced, &pending, &failed, &undispatched)
		if err != nil {
			return err
		}
		if synced != last {
			fmt.Fprintf(d.out, "  %-12s synced %d/%d, pending %d, failed %d\n", what+":", synced, len(d.analysed), pending, failed)
			last = synced
		}
		if undispatched == 0 && pending == 0 && synced+failed >= len(d.analysed) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: calls still pending after 60 s", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (d *demo) printTable(ctx context.Context) error {
	rows, err := d.pool.Query(ctx, `
		SELECT o.call_id,
			string_agg(o.event || ': ' || o.outcome, ', ' ORDER BY o.id),
			coalesce(s.state, '-'), coalesce(s.record_id, '-'), coalesce(s.last_error, '')
		FROM outbox o
		LEFT JOIN sync_records s ON s.tenant_id = o.tenant_id AND s.call_id = o.call_id
		WHERE o.tenant_id = 'demo'
		GROUP BY o.call_id, s.state, s.record_id, s.last_error
		ORDER BY o.call_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(d.out)
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CALL\tSALESFORCE RECORD ID\tSTATE\tOUTBOX EVENTS")
	var errs []string // the failed calls' errors, printed after the table
	for rows.Next() {
		var callID, events, state, recordID, lastError string
		if err := rows.Scan(&callID, &events, &state, &recordID, &lastError); err != nil {
			return err
		}
		if lastError != "" {
			errs = append(errs, callID+": "+lastError)
			state += " (below)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", callID, recordID, state, events)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range errs {
		fmt.Fprintln(d.out, "  "+e)
	}
	return nil
}

// check compares the database with what the simulator holds.
func (d *demo) check(ctx context.Context, org *salesforcetest.Org) []string {
	var problems []string
	tasks := org.Records("Task")
	bySubject := map[string][]string{}
	for _, t := range tasks {
		s, _ := t["Subject"].(string)
		id, _ := t["Id"].(string)
		bySubject[s] = append(bySubject[s], id)
	}
	for _, callID := range d.analysed {
		var state, recordID string
		err := d.pool.QueryRow(ctx, "SELECT state, coalesce(record_id, '') FROM sync_records WHERE tenant_id = 'demo' AND call_id = $1 AND target = 'salesforce'", callID).
			Scan(&state, &recordID)
		ids := bySubject[mapping.Subject(callID)]
		if callID == d.refused {
			var lastError string
			_ = d.pool.QueryRow(ctx, "SELECT coalesce(last_error, '') FROM sync_records WHERE tenant_id = 'demo' AND call_id = $1", callID).Scan(&lastError)
			if state != "failed" || len(ids) != 0 || !strings.Contains(lastError, demoRuleMessage) {
				problems = append(problems, fmt.Sprintf("%s: %s with %d Tasks (%q), want failed with the rule's message and none", callID, state, len(ids), lastError))
			}
			continue
		}
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: no sync record (%v)", callID, err))
		case state != "synced":
			problems = append(problems, fmt.Sprintf("%s: %s, want synced", callID, state))
		case len(ids) != 1:
			problems = append(problems, fmt.Sprintf("%s: %d Tasks in Salesforce, want 1", callID, len(ids)))
		case ids[0] != recordID:
			problems = append(problems, fmt.Sprintf("%s: stored record ID %s, Salesforce has %s", callID, recordID, ids[0]))
		}
	}
	if len(tasks) != len(d.analysed)-1 {
		problems = append(problems, fmt.Sprintf("%d Tasks in Salesforce, want %d", len(tasks), len(d.analysed)-1))
	}
	for _, t := range tasks {
		if t["Subject"] == mapping.Subject(d.reanalysed) && t["CallDisposition"] != d.newIntent {
			problems = append(problems, fmt.Sprintf("%s: the re-analysis did not update its Task", d.reanalysed))
		}
	}
	for _, callID := range d.transcribed {
		var n int
		_ = d.pool.QueryRow(ctx, "SELECT count(*) FROM sync_records WHERE call_id = $1", callID).Scan(&n)
		if n != 0 {
			problems = append(problems, fmt.Sprintf("%s: only transcribed, yet pushed", callID))
		}
	}
	var bad int
	_ = d.pool.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE call_id = 'c-bad'").Scan(&bad)
	if bad != 0 {
		problems = append(problems, "the bad call reached the outbox")
	}
	return problems
}
