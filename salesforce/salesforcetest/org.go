package salesforcetest

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/koeiq/syncd/salesforce"
)

// OrgConfig configures an org of the [Server].
type OrgConfig struct {
	// ClientID is the consumer key the token endpoint accepts. Defaults to
	// NAME + "-client-id".
	ClientID string
	// ClientSecret is the consumer secret the token endpoint accepts.
	// Defaults to NAME + "-client-secret".
	ClientSecret string
	// DailyAPILimit is the org's daily API request allocation, the MAX of
	// Sforce-Limit-Info. Defaults to 100,000.
	DailyAPILimit int
	// Latency is added to every API request (not to token requests). A
	// request whose client gives up during its latency is still performed
	// when the latency is over, as in Salesforce; see [Org.InFlight].
	// Defaults to 0.
	Latency time.Duration
	// QueryBatchSize is the number of records per page of a query. Defaults
	// to 2,000, as in Salesforce.
	QueryBatchSize int
	// Objects are the org's objects besides the standard ones every org
	// has: Task, Contact, Lead and User ([TaskObject], [ContactObject],
	// [LeadObject], [UserObject]). An ObjectDef named like a standard object
	// replaces it (to add a custom field to Contact, say). Defaults to the
	// standard objects only.
	Objects []ObjectDef
	// TokenError, when set, makes the token endpoint answer this OAuth error
	// to correct credentials, for example "invalid_grant" (with
	// TokenErrorDescription "no client credentials user enabled") or
	// "invalid_app_access". Defaults to "" (tokens are issued).
	TokenError string
	// TokenErrorDescription is the error_description sent with TokenError.
	TokenErrorDescription string
}

// FaultKind is what an injected [Fault] does.
type FaultKind int

const (
	// Fault503 answers 503 [{"errorCode":"SERVER_UNAVAILABLE",...}] without
	// doing anything.
	Fault503 FaultKind = iota + 1
	// FaultDropAfterCommit performs the request (the record is written, the
	// token issued), then closes the connection without an answer: the
	// client sees a network error although the write happened.
	FaultDropAfterCommit
	// FaultLockRow answers 400 [{"errorCode":"UNABLE_TO_LOCK_ROW",...}]
	// without doing anything.
	FaultLockRow
	// FaultLatency only delays the request by Fault.Latency. A client that
	// gives up meanwhile gets no answer, but the request is performed all
	// the same.
	FaultLatency
	// FaultRequestLimit answers 403 REQUEST_LIMIT_EXCEEDED ("TotalRequests
	// Limit exceeded."); on the token endpoint, 400 rate_limit_exceeded.
	FaultRequestLimit
	// FaultInvalidSession answers 401 INVALID_SESSION_ID without expiring
	// the token, as when Salesforce ends a session early.
	FaultInvalidSession
	// FaultError answers Fault.Status with [{"errorCode": Fault.ErrorCode,
	// ...}] without doing anything, for errors the org has no other way to
	// make (a MALFORMED_QUERY of a look-up, say). Not on the token endpoint.
	FaultError
)

// String returns the kind's name, e.g. "Fault503".
func (k FaultKind) String() string {
	switch k {
	case Fault503:
		return "Fault503"
	case FaultDropAfterCommit:
		return "FaultDropAfterCommit"
	case FaultLockRow:
		return "FaultLockRow"
	case FaultLatency:
		return "FaultLatency"
	case FaultRequestLimit:
		return "FaultRequestLimit"
	case FaultInvalidSession:
		return "FaultInvalidSession"
	case FaultError:
		return "FaultError"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is a failure injected with [Org.InjectFault].
type Fault struct {
	// Op selects the requests the fault applies to: "token", "create",
	// "update", "upsert", "retrieve", "delete", "query", "describe",
	// "collection_create", "collection_update", "collection_upsert" or
	// "composite" (a Composite request as a whole: its subrequests take no
	// faults of their own). ""
	// means any API request but not the token endpoint. On the token
	// endpoint only Fault503, FaultDropAfterCommit, FaultLatency and
	// FaultRequestLimit apply; a FaultLockRow or FaultInvalidSession with Op
	// "token" never matches.
	Op string
	// Kind is what happens.
	Kind FaultKind
	// Count is how many matching requests the fault applies to. Defaults
	// to 1.
	Count int
	// Latency delays the request before the fault takes effect; it is the
	// whole effect of FaultLatency. Defaults to 0.
	Latency time.Duration
	// Status and ErrorCode are FaultError's answer. Default to 400 and
	// "UNKNOWN_EXCEPTION".
	Status    int
	ErrorCode string
}

// Org is one simulated Salesforce org: its credentials, tokens, objects and
// records, API usage, injected faults and request counts. Its methods are safe
// for concurrent use, also while the server is serving.
type Org struct {
	name    string
	url     string
	pod     string
	orgID   string
	userID  string
	closing <-chan struct{} // the Server's: closed when it closes

	mu             sync.Mutex
	clientID       string
	clientSecret   string
	tokenError     string
	tokenErrorDesc string
	limit          int
	used           int
	latency        time.Duration
	batchSize      int
	objects        map[string]*object // by lower-cased name
	tokens         map[string]bool
	seq            uint64
	faults         []Fault
	counts         map[string]int
	cursors        map[string][]map[string]any
	inFlight       int // authenticated API requests being served
	peakInFlight   int // most inFlight since newOrg or ResetPeakInFlight
}

func newOrg(name, url string, index int, closing <-chan struct{}, cfg OrgConfig) (*Org, error) {
	pod := string([]byte{base62[(index/62+4)%62], base62[index%62]})
	o := &Org{
		name:           name,
		url:            url,
		pod:            pod,
		orgID:          makeID("00D", pod, uint64(index)+1),
		userID:         makeID("005", pod, uint64(index)+7),
		closing:        closing,
		clientID:       cmp.Or(cfg.ClientID, name+"-client-id"),
		clientSecret:   cmp.Or(cfg.ClientSecret, name+"-client-secret"),
		tokenError:     cfg.TokenError,
		tokenErrorDesc: cfg.TokenErrorDescription,
		limit:          cmp.Or(cfg.DailyAPILimit, 100_000),
		latency:        cfg.Latency,
		batchSize:      cmp.Or(cfg.QueryBatchSize, 2000),
		objects:        make(map[string]*object),
		tokens:         make(map[string]bool),
		seq:            916_132_832, // 62^5: IDs with mixed case, to exercise checksums
		counts:         make(map[string]int),
		cursors:        make(map[string][]map[string]any),
	}
	var defs []ObjectDef
	for _, std := range standardObjects() {
		if !slices.ContainsFunc(cfg.Objects, func(d ObjectDef) bool { return strings.EqualFold(d.Name, std.Name) }) {
			defs = append(defs, std)
		}
	}
	defs = append(defs, cfg.Objects...)
	custom := 0
	usedPrefixes := make(map[string]bool)
	for _, def := range defs {
		prefix := def.KeyPrefix
		if prefix == "" {
			if std := standardKeyPrefix(def.Name); std != "" {
				prefix = std
			} else {
				for prefix == "" || usedPrefixes[prefix] {
					prefix = "a0" + string(base62[custom%62])
					custom++
				}
			}
		}
		if _, ok := canonicalID(prefix + "000000000000"); !ok || usedPrefixes[prefix] {
			return nil, fmt.Errorf("object %s: key prefix %q is not 3 letters or digits, or is taken", def.Name, prefix)
		}
		usedPrefixes[prefix] = true
		obj, err := newObject(def, prefix)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(obj.name)
		if _, dup := o.objects[key]; dup {
			return nil, fmt.Errorf("object %s is defined twice", obj.name)
		}
		o.objects[key] = obj
	}
	for _, obj := range o.objects {
		for _, f := range obj.fields {
			for i, target := range f.ReferenceTo {
				t := o.object(target)
				if t == nil {
					return nil, fmt.Errorf("object %s: field %s references %s, which the org does not have", obj.name, f.Name, target)
				}
				f.ReferenceTo[i] = t.name
			}
		}
	}
	o.addIntegrationUser()
	return o, nil
}

// addIntegrationUser stores the org's Run As user, o.userID, as an active
// User record, with the User fields the org's User object has.
func (o *Org) addIntegrationUser() {
	users := o.object("User")
	if users == nil || !strings.HasPrefix(o.userID, users.keyPrefix) {
		return
	}
	username := "integration@" + o.name + ".example.com"
	rec := make(map[string]any)
	for _, f := range users.fields {
		if f.Default != nil {
			rec[f.Name] = f.Default
		}
	}
	for name, v := range map[string]any{
		"Username": username, "FirstName": "Integration", "LastName": "User", "Email": username, "IsActive": true,
	} {
		if f := users.field(name); f != nil {
			rec[f.Name] = v
		}
	}
	o.storeAs(users, o.userID, rec)
}

// URL returns the org's instance URL: the server's URL + "/org/" + name. Use
// it as the client's instance URL (with loopback URLs allowed); the token
// endpoint answers it as instance_url.
func (o *Org) URL() string { return o.url }

// ID returns the org's 18-character organization ID (prefix 00D).
func (o *Org) ID() string { return o.orgID }

// UserID returns the ID of the org's Run As user (prefix 005), the default
// OwnerId of new records. The org has it as an active User record from the
// start (Username integration@NAME.example.com).
func (o *Org) UserID() string { return o.userID }

// Records returns copies of the live records of an object (not those in the
// recycle bin) in creation order, each with its Id and system fields. Values
// are as encoding/json decodes them: string, float64, bool. It returns nil for
// an unknown object.
func (o *Org) Records(sobject string) []salesforce.Fields {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj := o.objects[strings.ToLower(sobject)]
	if obj == nil {
		return nil
	}
	var out []salesforce.Fields
	for _, id := range obj.order {
		if rec, ok := obj.records[id]; ok {
			out = append(out, salesforce.Fields(maps.Clone(rec)))
		}
	}
	return out
}

// Record returns a copy of the live record with the given 15- or
// 18-character ID.
func (o *Org) Record(sobject, id string) (salesforce.Fields, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj := o.objects[strings.ToLower(sobject)]
	id, ok := canonicalID(id)
	if obj == nil || !ok {
		return nil, false
	}
	rec, ok := obj.records[id]
	if !ok {
		return nil, false
	}
	return salesforce.Fields(maps.Clone(rec)), true
}

// PutRecord stores a record as given (plus field defaults and system fields),
// without validation, and returns its new ID: seed data, including states
// the API would refuse (two records with the same external ID, for a 300 on
// upsert; a converted Lead; an inactive User). Values are normalised through
// encoding/json. CreatedDate and LastModifiedDate, read-only in the API, may
// be given here (a time.Time, or a string as Salesforce accepts datetimes)
// and default to now; like every datetime they are stored, and answered by
// queries, as Salesforce answers them: 2026-01-15T10:04:05.000+0000. Id and
// IsDeleted are always the server's. It panics if the object does not exist
// or a value cannot be encoded.
func (o *Org) PutRecord(sobject string, f salesforce.Fields) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj := o.objects[strings.ToLower(sobject)]
	if obj == nil {
		panic("salesforcetest: PutRecord: no object " + sobject)
	}
	rec := make(map[string]any, len(f)+5)
	for _, fd := range obj.fields {
		if fd.Default != nil {
			rec[fd.Name] = fd.Default
		}
	}
	for k, v := range f {
		name := k
		if fd := obj.field(k); fd != nil {
			name = fd.Name
		}
		nv, err := normalise(v)
		if err != nil {
			panic(fmt.Sprintf("salesforcetest: PutRecord: field %s: %v", k, err))
		}
		if fd := obj.field(k); fd != nil && fd.kind == kindDateTime {
			if s, ok := nv.(string); ok {
				if t, ok := parseDateTime(s); ok {
					nv = formatDateTime(t)
				}
			}
		}
		rec[name] = nv
	}
	delete(rec, "Id")
	delete(rec, "IsDeleted")
	return o.store(obj, rec)
}

// DeleteRecord moves a record to the recycle bin, as deleting it in
// Salesforce does: it disappears from queries and upserts, and an update
// or retrieve by its ID answers 404 ENTITY_IS_DELETED. It reports whether the
// record was live.
func (o *Org) DeleteRecord(sobject, id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj := o.objects[strings.ToLower(sobject)]
	id, ok := canonicalID(id)
	if obj == nil || !ok {
		return false
	}
	return o.recycle(obj, id)
}

// EmptyRecycleBin purges deleted records: requests by their IDs now answer
// 404 NOT_FOUND.
func (o *Org) EmptyRecycleBin() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, obj := range o.objects {
		clear(obj.recycled)
	}
}

// ExpireTokens invalidates every token issued so far: API requests carrying
// one answer 401 INVALID_SESSION_ID.
func (o *Org) ExpireTokens() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.tokens)
}

// SetClientSecret rotates the consumer secret. Tokens already issued stay
// valid.
func (o *Org) SetClientSecret(secret string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clientSecret = secret
}

// SetTokenError makes the token endpoint answer an OAuth error to correct
// credentials (see OrgConfig.TokenError); "" issues tokens again.
func (o *Org) SetTokenError(code, description string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tokenError, o.tokenErrorDesc = code, description
}

// SetAPIUsage sets the number of API requests used today.
func (o *Org) SetAPIUsage(used int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.used = used
}

// SetDailyAPILimit sets the org's daily API request allocation.
func (o *Org) SetDailyAPILimit(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.limit = n
}

// APIUsage returns the API requests used today and the daily allocation, as
// Sforce-Limit-Info reports them.
func (o *Org) APIUsage() (used, limit int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.used, o.limit
}

// SetLatency sets the delay added to every API request.
func (o *Org) SetLatency(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.latency = d
}

// InjectFault queues a fault. A request takes the first queued fault that
// matches its operation, applies it, and uses up one of its Count; so
// InjectFault(Fault{Op: "create", Kind: Fault503, Count: 2}) fails the next
// two creates. API faults apply after authentication and the daily limit, so
// a faulted request counts against the limit.
func (o *Org) InjectFault(f Fault) {
	f.Count = cmp.Or(f.Count, 1)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.faults = append(o.faults, f)
}

// takeFault removes one use of the first fault matching op. The caller
// holds o.mu.
func (o *Org) takeFault(op string) (Fault, bool) {
	for i := range o.faults {
		f := &o.faults[i]
		match := f.Op == op || (f.Op == "" && op != opToken)
		if op == opToken && (f.Kind == FaultLockRow || f.Kind == FaultInvalidSession || f.Kind == FaultError) {
			match = false
		}
		if !match {
			continue
		}
		taken := *f
		if f.Count--; f.Count <= 0 {
			o.faults = slices.Delete(o.faults, i, i+1)
		}
		return taken, true
	}
	return Fault{}, false
}

// Requests returns how many requests of an operation the org received:
// "token", "versions", "create", "update", "upsert", "retrieve", "delete",
// "query" (each page), "describe", "collection_create", "collection_update",
// "collection_upsert", "composite" or "unknown". Every request counts,
// refused and faulted ones included; record pages (GET URL() + "/" + id) are
// not API requests and do not count. A Composite request counts once, as
// "composite", whatever its subrequests: they do not count under their own
// operations.
func (o *Org) Requests(op string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[op]
}

// RequestCounts returns a copy of all request counts by operation.
func (o *Org) RequestCounts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.counts)
}

// InFlight returns the number of API requests the org is serving now:
// authenticated requests under /services/data/{version}/, counted from
// authentication until their answer is ready, latency included. Token
// requests, the versions list and unauthenticated requests do not count.
//
// A request whose client has gone away (a timeout, a cancelled context) is
// still performed after its latency and counts until it is done, so
// InFlight() == 0 tells a test that every abandoned request has landed. When
// a client holds its answer, its request no longer counts.
func (o *Org) InFlight() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.inFlight
}

// PeakInFlight returns the most API requests (as counted by
// [Org.InFlight]) the org served at once since it was created or since
// [Org.ResetPeakInFlight].
func (o *Org) PeakInFlight() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.peakInFlight
}

// ResetPeakInFlight starts a new measure of [Org.PeakInFlight], from the
// requests in flight now.
func (o *Org) ResetPeakInFlight() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.peakInFlight = o.inFlight
}

// newID returns a new record ID with the object's key prefix. The caller
// holds o.mu.
func (o *Org) newID(prefix string) string {
	o.seq++
	return makeID(prefix, o.pod, o.seq)
}

// store adds a new record with its system fields. The caller holds o.mu.
func (o *Org) store(obj *object, rec map[string]any) string {
	return o.storeAs(obj, o.newID(obj.keyPrefix), rec)
}

// storeAs adds a new record with the given ID and its system fields; the
// CreatedDate and LastModifiedDate it holds (PutRecord's) are kept. The
// caller holds o.mu.
func (o *Org) storeAs(obj *object, id string, rec map[string]any) string {
	now := formatDateTime(time.Now())
	rec["Id"] = id
	if rec["CreatedDate"] == nil {
		rec["CreatedDate"] = now
	}
	if rec["LastModifiedDate"] == nil {
		rec["LastModifiedDate"] = now
	}
	rec["IsDeleted"] = false
	if obj.field("OwnerId") != nil && rec["OwnerId"] == nil {
		rec["OwnerId"] = o.userID
	}
	obj.records[id] = rec
	obj.order = append(obj.order, id)
	return id
}

// recycle moves a live record to the recycle bin. The caller holds o.mu.
func (o *Org) recycle(obj *object, id string) bool {
	rec, ok := obj.records[id]
	if !ok {
		return false
	}
	delete(obj.records, id)
	rec["IsDeleted"] = true
	obj.recycled[id] = rec
	return true
}
