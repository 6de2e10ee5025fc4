package admin

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/koeiq/syncd/outbox"
	syncdsql "github.com/koeiq/syncd/sql"
)

// Sync log paging: GET /api/v1/calls?limit= takes 1 to maxPageSize rows,
// defaultPageSize when it is not given.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// logRow is one row of the sync log: a call and the CRM it goes to, or a
// call that was skipped (Target "").
type logRow struct {
	CallID     string `json:"call_id"`
	Target     string `json:"target"`
	State      string `json:"state"` // synced, pending, failed or skipped
	Test       bool   `json:"test"`  // sent with "Send a test call"
	ObjectType string `json:"object_type"`
	RecordID   string `json:"record_id"`
	RecordURL  string `json:"record_url"`
	Attempts   int    `json:"attempts"`
	// LastError is the CRM's message about the last attempt: it may quote
	// the call's content, which is the tenant's own data.
	LastError     string `json:"last_error"`
	SkippedReason string `json:"skipped_reason"`
	// RetryAt is when a pending call that is held back (after a failed
	// attempt, or a create in doubt) may be pushed next.
	RetryAt    *time.Time `json:"retry_at"`
	LastPushAt *time.Time `json:"last_push_at"`
	SyncedAt   *time.Time `json:"synced_at"`
	CreatedAt  time.Time  `json:"created_at"`
	callMatch
}

// callMatch is what call matching found (SPEC §5.6): the Contact or Lead
// the record is linked to, the result of the last match (matched,
// ambiguous:N, none, invalid_number, off, error; "" before any), the owner
// syncd set on create, and why the default owner was kept (no_user,
// inactive_user, no_agent_email, error).
type callMatch struct {
	Match     string `json:"match,omitempty"`
	WhoID     string `json:"who_id,omitempty"`
	WhoType   string `json:"who_type,omitempty"`
	OwnerID   string `json:"owner_id,omitempty"`
	OwnerNote string `json:"owner_note,omitempty"`
}

// logPage is the answer of GET /api/v1/calls.
type logPage struct {
	Calls []logRow `json:"calls"`
	// NextAfter, given as after, reads the next page; absent on the last.
	NextAfter string `json:"next_after,omitempty"`
}

// cursor is where a page of the log starts: after the row with this key.
// Newest first, the key is (At, CallID, Target); searching, (CallID,
// Target).
type cursor struct {
	At     time.Time
	CallID string
	Target string
}

func (c cursor) encode() string {
	b, _ := json.Marshal([]any{c.At.Format(time.RFC3339Nano), c.CallID, c.Target})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	bad := badField("after", "after must be the next_after of the page before")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	var parts []string
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) != 3 {
		return cursor{}, bad
	}
	at, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return cursor{}, bad
	}
	return cursor{At: at, CallID: parts[1], Target: parts[2]}, nil
}

// logQuery is what GET /api/v1/calls asks for.
type logQuery struct {
	state string // "" for every state
	q     string // a call ID or its beginning; "" for all calls
	limit int
	after *cursor
}

func parseLogQuery(r *http.Request) (logQuery, error) {
	v := r.URL.Query()
	lq := logQuery{state: v.Get("state"), q: strings.TrimSpace(v.Get("q")), limit: defaultPageSize}
	switch lq.state {
	case "", "synced", "pending", "failed", "skipped":
	default:
		return lq, badField("state", "state must be synced, pending, failed or skipped (or empty for all)")
	}
	if !utf8.ValidString(lq.q) || utf8.RuneCountInString(lq.q) > 200 || strings.ContainsRune(lq.q, 0) {
		return lq, badField("q", "q must be a call ID or its beginning (at most 200 characters)")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			return lq, badField("limit", "limit must be a whole number from 1 to %d", maxPageSize)
		}
		lq.limit = n
	}
	if s := v.Get("after"); s != "" {
		c, err := decodeCursor(s)
		if err != nil {
			return lq, err
		}
		lq.after = &c
	}
	return lq, nil
}

// listCalls answers GET /api/v1/calls: one page of the token's tenant's
// sync log, newest first, or in call ID order when searching.
func (s *server) listCalls(w http.ResponseWriter, r *http.Request, c *Claims) error {
	ctx := r.Context()
	lq, err := parseLogQuery(r)
	if err != nil {
		return err
	}
	var rows []syncdsql.CallLogRow
	if lq.q == "" {
		p := syncdsql.ListCallsPageParams{TenantID: c.TenantID, State: lq.state, Limit: lq.limit}
		if lq.after != nil {
			p.AfterCreatedAt, p.AfterCallID, p.AfterTarget = pgTime(lq.after.At), lq.after.CallID, lq.after.Target
		}
		rows, err = syncdsql.ListCallsPage(ctx, s.cfg.Pool, p)
	} else {
		var after cursor
		if lq.after != nil {
			after = *lq.after
		}
		start := max(lq.q, after.CallID) // Go compares strings by bytes, as the query does
		rows, err = syncdsql.SearchCalls(ctx, s.cfg.Pool, syncdsql.SearchCallsParams{TenantID: c.TenantID, Prefix: lq.q,
			Start: start, AfterCallID: after.CallID, AfterTarget: after.Target, Limit: lq.limit, State: lq.state})
	}
	if err != nil {
		return fmt.Errorf("read the sync log: %w", err)
	}
	page := logPage{Calls: make([]logRow, 0, len(rows))}
	for _, row := range rows {
		page.Calls = append(page.Calls, logRowOf(row))
	}

	in, err := s.integrations(r, c.TenantID)
	if err != nil {
		return err
	}
	for i := range page.Calls {
		row := &page.Calls[i]
		row.Test = outbox.IsTestCall(row.CallID)
		row.RecordURL = in.recordURL(row.Target, row.ObjectType, row.RecordID)
	}
	if n := len(page.Calls); n == lq.limit {
		last := page.Calls[n-1]
		page.NextAfter = cursor{At: last.CreatedAt, CallID: last.CallID, Target: last.Target}.encode()
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// logRowOf maps a row of the sync log (calls_page.sql or calls_search.sql)
// to the API's.
func logRowOf(r syncdsql.CallLogRow) logRow {
	l := logRow{CallID: r.CallID, Target: r.Target, State: r.State, Attempts: r.Attempts,
		RetryAt: r.RetryAt, LastPushAt: r.LastPushAt, SyncedAt: r.SyncedAt, CreatedAt: r.CreatedAt}
	l.ObjectType, l.RecordID, l.LastError, l.SkippedReason = deref(r.ObjectType), deref(r.RecordID), deref(r.LastError), deref(r.SkippedReason)
	l.callMatch = callMatch{deref(r.Match), deref(r.WhoID), deref(r.WhoType), deref(r.OwnerID), deref(r.OwnerNote)}
	if l.RetryAt != nil && !l.RetryAt.After(time.Now()) {
		l.RetryAt = nil // not held back any more
	}
	return l
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// infinity stands for PostgreSQL's 'infinity' timestamp: the first page of
// the log starts after it.
var infinity = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// pgTime returns t, or nil for infinity, which ListCallsPage sends as
// PostgreSQL's 'infinity'.
func pgTime(t time.Time) *time.Time {
	if t.Equal(infinity) {
		return nil
	}
	return &t
}

// stateCounts counts calls by state.
type stateCounts struct {
	Synced  int64 `json:"synced"`
	Pending int64 `json:"pending"`
	Failed  int64 `json:"failed"`
	Skipped int64 `json:"skipped"`
}

// summary is the answer of GET /api/v1/summary: the line on top of the
// sync log.
type summary struct {
	Tenant summaryTenant `json:"tenant"`
	// Integration is the CRM calls go to: "salesforce" (which wins when
	// both are enabled), "kintone", or "" when none is enabled.
	Integration string `json:"integration"`
	// Since is the start of the 24 hours Last24h counts.
	Since time.Time `json:"since"`
	// Last24h counts the calls that arrived since Since by their state
	// now, test calls left out.
	Last24h stateCounts `json:"last_24h"`
	// Pending and Failed count every call pending and failed now, test
	// calls too, as "Retry all failed" sees them.
	Pending        int64       `json:"pending"`
	Failed         int64       `json:"failed"`
	NeedsAttention bool        `json:"needs_attention"`
	Attention      []attention `json:"attention"`
}

type summaryTenant struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	AuditExportPack  bool   `json:"audit_export_pack"`
	AnalyticsEnabled bool   `json:"analytics_enabled"`
}

// attention is something that keeps calls from the CRM, and what to do.
type attention struct {
	// Code is credentials_refused, api_limit_paused, api_budget_held,
	// pack_missing or not_enabled.
	Code    string `json:"code"`
	Target  string `json:"target,omitempty"`
	Message string `json:"message"`
	Action  string `json:"action"`
}

func (s *server) getSummary(w http.ResponseWriter, r *http.Request, c *Claims) error {
	ctx := r.Context()
	tenant, err := s.cfg.Settings.Tenant(ctx, c.TenantID)
	if err != nil {
		return err
	}
	in, err := s.integrations(r, c.TenantID)
	if err != nil {
		return err
	}
	now := time.Now()
	res := summary{
		Tenant: summaryTenant{ID: tenant.ID, Name: tenant.Name, AuditExportPack: tenant.AuditExportPack,
			AnalyticsEnabled: tenant.AnalyticsEnabled},
		Integration: in.active(),
		Since:       now.Add(-24 * time.Hour).UTC().Truncate(time.Second),
		Attention:   []attention{},
	}
	counts, err := syncdsql.GetCallsSummary(ctx, s.cfg.Pool, c.TenantID, res.Since, outbox.TestCallPrefix)
	if err != nil {
		return fmt.Errorf("count the sync log: %w", err)
	}
	res.Last24h = stateCounts{Synced: counts.Synced, Pending: counts.Pending, Failed: counts.Failed, Skipped: counts.Skipped}
	res.Pending, res.Failed = counts.PendingNow, counts.FailedNow

	switch {
	case !tenant.AuditExportPack:
		res.Attention = append(res.Attention, attention{Code: "pack_missing",
			Message: "Your plan does not include the Audit & Export Pack, so no call is sent to a CRM.",
			Action:  "Ask KoeIQ to add the Audit & Export Pack; calls that arrive meanwhile can be sent afterwards."})
	case res.Integration == "":
		res.Attention = append(res.Attention, attention{Code: "not_enabled",
			Message: "No CRM integration is enabled, so calls are kept but not sent.",
			Action:  "Enter your Salesforce settings below, tick Enable Salesforce mode and click Save Salesforce Settings."})
	}
	if res.Integration != "" {
		items, err := s.orgAttention(r, c.TenantID, res.Integration, in, now)
		if err != nil {
			return err
		}
		res.Attention = append(res.Attention, items...)
	}
	res.NeedsAttention = len(res.Attention) > 0
	writeJSON(w, http.StatusOK, res)
	return nil
}

// orgAttention says what holds back the pushes to the tenant's active
// integration: refused credentials, a pause after the org's request
// limit, or an API budget nearly used.
func (s *server) orgAttention(r *http.Request, tenantID, target string, in *integrations, now time.Time) ([]attention, error) {
	var items []attention
	// target is the active integration, so its settings are there.
	crm, attentionCode, attentionAt := "Salesforce", "", (*time.Time)(nil)
	action := "Check the Client ID, enter the Client Secret again and click Save Salesforce Settings; waiting calls are sent once Salesforce accepts them."
	switch target {
	case "salesforce":
		attentionCode, attentionAt = in.salesforce.Attention, in.salesforce.AttentionAt
	case "kintone":
		crm = "Kintone"
		attentionCode, attentionAt = in.kintone.Attention, in.kintone.AttentionAt
		action = "Enter a valid API token of the app and click Save Kintone Settings; waiting calls are sent once Kintone accepts it."
	}
	if attentionCode != "" {
		when := ""
		if attentionAt != nil {
			when = " at " + attentionAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		items = append(items, attention{Code: "credentials_refused", Target: target,
			Message: fmt.Sprintf("%s refused the saved credentials (%s)%s; calls wait until they are fixed.", crm, attentionCode, when),
			Action:  action})
	}

	st, err := syncdsql.GetOrgState(r.Context(), s.cfg.Pool, tenantID, target)
	if errors.Is(err, pgx.ErrNoRows) {
		return items, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read org state: %w", err)
	}
	pausedUntil, used, limit, at := st.PausedUntil, st.APIUsed, st.APIMax, st.APIAt
	if pausedUntil != nil && pausedUntil.After(now) {
		items = append(items, attention{Code: "api_limit_paused", Target: target,
			Message: fmt.Sprintf("%s answered that the org's API request limit is reached; pushes pause until %s.",
				crm, pausedUntil.UTC().Format("2006-01-02 15:04 UTC")),
			Action: "Nothing to do: syncd resumes by itself. If this recurs, raise the org's API limit or lower other tools' use of it."})
	}
	if used != nil && limit != nil && at != nil && *limit > 0 && now.Sub(*at) < 24*time.Hour &&
		float64(*used)/float64(*limit) >= s.cfg.BudgetHoldShare {
		items = append(items, attention{Code: "api_budget_held", Target: target,
			Message: fmt.Sprintf("The org has used %d of its %d daily API requests; syncd holds calls back to leave the rest to your other tools.", *used, *limit),
			Action:  "Calls go out as the org's 24-hour usage falls. To send them sooner, raise the org's daily API limit."})
	}
	return items, nil
}

// retryFailed answers POST /api/v1/calls/retry-failed: every failed call of
// the tenant is pushed again (syncd.retry_failed).
func (s *server) retryFailed(w http.ResponseWriter, r *http.Request, c *Claims) error {
	ctx := r.Context()
	if err := s.requirePack(r, c.TenantID); err != nil {
		return err
	}
	queued, err := syncdsql.RetryFailed(ctx, s.cfg.Pool, c.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"queued": queued})
	return nil
}
