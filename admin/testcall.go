package admin

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/settings"
)

// testCall answers POST /api/v1/test-call ("Send a test call"): it writes a
// synthetic call to the outbox, as the pipeline writes an analysed call, so
// that it goes the whole way to the CRM. Its ID begins with
// outbox.TestCallPrefix and its Description says what it is; the page then
// follows it with GET /api/v1/calls/{call_id}/sync.
func (s *server) testCall(w http.ResponseWriter, r *http.Request, c *Claims) error {
	ctx := r.Context()
	tenant, err := s.cfg.Settings.Tenant(ctx, c.TenantID)
	if err != nil {
		return err
	}
	if !tenant.AuditExportPack {
		return settings.ErrPackRequired
	}
	in, err := s.integrations(r, c.TenantID)
	if err != nil {
		return err
	}
	target := in.active()
	if target == "" {
		return &apiError{status: http.StatusConflict, code: "not_enabled",
			message: "No CRM integration is enabled: save the Salesforce settings with Enable Salesforce mode ticked first."}
	}

	now := time.Now().UTC()
	var random [4]byte
	_, _ = rand.Read(random[:])
	callID := outbox.TestCallPrefix + now.Format("20060102T150405Z") + "-" + hex.EncodeToString(random[:])
	event := outbox.CallAnalysed
	if !tenant.AnalyticsEnabled {
		event = outbox.CallTranscribed // the event that creates the tenant's records
	}
	_, err = outbox.Writer{Schema: s.cfg.Schema}.Enqueue(ctx, s.cfg.Pool, outbox.Event{
		TenantID: c.TenantID,
		CallID:   callID,
		Type:     event,
		Payload: outbox.Payload{
			StartedAt:       now.Truncate(time.Second),
			DurationSeconds: 0,
			Direction:       "outbound",
			PrimaryIntent:   "syncd test call",
			Summary: "TEST CALL, not a real call. " + c.Subject + " sent it from KoeIQ's Salesforce Integration page " +
				"to check that analysed calls reach this CRM. You may delete this record.",
		},
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"call_id": callID, "target": target})
	return nil
}
