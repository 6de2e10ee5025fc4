package admin

import (
	"net/http"
	"time"
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

	rows, err := s.cfg.Pool.Query(ctx, `
		SELECT target, state, coalesce(object_type, ''), coalesce(record_id, ''), coalesce(last_error, ''),
			attempts, synced_at, updated_at, coalesce(match, ''), coalesce(who_id, ''), coalesce(who_type, ''),
			coalesce(owner_id, ''), coalesce(owner_note, '')
		FROM sync_records WHERE tenant_id = $1 AND call_id = $2 ORDER BY target`, c.TenantID, callID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var t targetSync
		if err := rows.Scan(&t.Target, &t.State, &t.ObjectType, &t.RecordID, &t.LastError, &t.Attempts, &t.SyncedAt, &t.UpdatedAt,
			&t.Match, &t.WhoID, &t.WhoType, &t.OwnerID, &t.OwnerNote); err != nil {
			return err
		}
		res.Targets = append(res.Targets, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = s.cfg.Pool.Query(ctx, `
		SELECT id, event, coalesce(outcome, ''), created_at, dispatched_at
		FROM outbox WHERE tenant_id = $1 AND call_id = $2 ORDER BY id`, c.TenantID, callID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var e outboxEvent
		if err := rows.Scan(&e.ID, &e.Event, &e.Outcome, &e.CreatedAt, &e.DispatchedAt); err != nil {
			return err
		}
		res.Events = append(res.Events, e)
	}
	if err := rows.Err(); err != nil {
		return err
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
	var queued int
	if err := s.cfg.Pool.QueryRow(ctx, "SELECT resync($1, $2)", c.TenantID, callID).Scan(&queued); err != nil {
		return err
	}
	if queued == 0 {
		return &apiError{status: http.StatusNotFound, code: "not_found",
			message: "syncd holds no analysis of call " + callID + " to push"}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"call_id": callID, "queued": queued})
	return nil
}
