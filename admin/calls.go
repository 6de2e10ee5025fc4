package admin

import (
	"net/http"
	"time"

	syncdsql "github.com/koeiq/syncd/sql"
)

// callSync is the answer of GET /api/v1/calls/{call_id}/sync.
type callSync struct {
	CallID  string        `json:"call_id"`
	Targets []targetSync  `json:"targets"`
	Events  []outboxEvent `json:"events"`
}

// targetSync is what one CRM holds of the call.
type targetSync struct {
	Target     string     `json:"target"`
	State      string     `json:"state"`
	ObjectType string     `json:"object_type,omitempty"`
	RecordID   string     `json:"record_id,omitempty"`
	RecordURL  string     `json:"record_url,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	Attempts   int        `json:"attempts"`
	SyncedAt   *time.Time `json:"synced_at,omitempty"`
	UpdatedAt  time.Time  `json:"updated_at"`
	callMatch
}

// outboxEvent is one outbox row of the call: what the pipeline reported and
// what became of it.
type outboxEvent struct {
	ID           int64      `json:"id"`
	Event        string     `json:"event"`
	Outcome      string     `json:"outcome,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	DispatchedAt *time.Time `json:"dispatched_at,omitempty"`
}

func (s *server) callSync(w http.ResponseWriter, r *http.Request, c *Claims) error {
	ctx := r.Context()
	callID := r.PathValue("call_id")
	res := callSync{CallID: callID, Targets: []targetSync{}, Events: []outboxEvent{}}

	targets, err := syncdsql.ListCallSyncTargets(ctx, s.cfg.Pool, c.TenantID, callID)
	if err != nil {
		return err
	}
	for _, t := range targets {
		res.Targets = append(res.Targets, targetSync{Target: t.Target, State: t.State, ObjectType: t.ObjectType,
			RecordID: t.RecordID, LastError: t.LastError, Attempts: t.Attempts, SyncedAt: t.SyncedAt, UpdatedAt: t.UpdatedAt,
			callMatch: callMatch{t.Match, t.WhoID, t.WhoType, t.OwnerID, t.OwnerNote}})
	}
	events, err := syncdsql.ListCallEvents(ctx, s.cfg.Pool, c.TenantID, callID)
	if err != nil {
		return err
	}
	for _, e := range events {
		res.Events = append(res.Events, outboxEvent{ID: e.ID, Event: e.Event, Outcome: e.Outcome,
			CreatedAt: e.CreatedAt, DispatchedAt: e.DispatchedAt})
	}
	if len(res.Targets) == 0 && len(res.Events) == 0 {
		return &apiError{status: http.StatusNotFound, code: "not_found", message: "syncd knows no call " + callID}
	}

	in, err := s.integrations(r, c.TenantID)
	if err != nil {
		return err
	}
	for i := range res.Targets {
		t := &res.Targets[i]
		t.RecordURL = in.recordURL(t.Target, t.ObjectType, t.RecordID)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *server) resync(w http.ResponseWriter, r *http.Request, c *Claims) error {
	ctx := r.Context()
	callID := r.PathValue("call_id")
	if err := s.requirePack(r, c.TenantID); err != nil {
		return err
	}
	queued, err := syncdsql.Resync(ctx, s.cfg.Pool, c.TenantID, callID)
	if err != nil {
		return err
	}
	if queued == 0 {
		return &apiError{status: http.StatusNotFound, code: "not_found",
			message: "syncd holds no analysis of call " + callID + " to push"}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"call_id": callID, "queued": queued})
	return nil
}
