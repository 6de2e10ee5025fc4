package jobs

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/phone"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/settings"
)

// The results of matching a call to the people on its phone (SPEC §5.6),
// as sync_records.match stores them; "ambiguous:N" is the fifth.
const (
	matchMatched = "matched"
	matchNone    = "none"
	matchInvalid = "invalid_number"
	matchOff     = "off"
	matchError   = "error"
)

// Why a created record kept the integration's default owner, as
// sync_records.owner_note stores it.
const (
	ownerNoUser       = "no_user"
	ownerInactiveUser = "inactive_user"
	ownerNoAgentEmail = "no_agent_email"
	ownerError        = "error"
)

// callLink is what matching found for a call, and what its push sent.
type callLink struct {
	// match is the result of the phone match; "" when it did not run (the
	// record already has the WhoId syncd set).
	match          string
	whoID, whoType string
	// ownerID is the agent's active User; ownerNote says why there is
	// none. Both are "" when no create needed an owner.
	ownerID, ownerNote string
	// sentWho and sentOwner are set when the push sent WhoID and OwnerID.
	sentWho, sentOwner bool
}

// userCacheTTL is how long a tenant's users, found by email, are reused.
const userCacheTTL = 5 * time.Minute

// userCache holds a tenant's users by lower-cased email; an entry with no
// ID says there is no such user.
type userCache struct {
	mu    sync.Mutex
	users map[string]cachedUser
}

type cachedUser struct {
	id     string
	active bool
	at     time.Time
}

func (c *userCache) get(email string, now time.Time) (cachedUser, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[email]
	return u, ok && now.Sub(u.at) < userCacheTTL
}

func (c *userCache) put(email string, u cachedUser) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.users == nil {
		c.users = map[string]cachedUser{}
	}
	c.users[email] = u
}

// linkFields are the fields of st's object type that take the match and
// the owner: WhoId and OwnerId on a Task, the Admin's lookup fields on a
// custom object ("" when unset).
func linkFields(st *settings.Salesforce) (who, owner string) {
	if mapping.IsCustomObject(st.ObjectType) {
		return st.WhoField, st.OwnerField
	}
	return "WhoId", "OwnerId"
}

// matchCalls links the batch's calls that are still to be pushed to the
// Contact, else the open Lead, with their customer phone (newest first
// among several), and, for records that may be created, to the active
// User with their agent's email. All look-ups of the batch go in one
// Composite request: one API call, one query per object type. Users found
// are cached per tenant for userCacheTTL. A match problem never stops a
// call: it goes without a WhoId or owner, and its link says why.
func matchCalls(ctx context.Context, client *salesforce.Client, st *settings.Salesforce, users *userCache, items []*pushItem) {
	whoField, ownerField := linkFields(st)
	now := time.Now()
	byE164 := map[string][]*pushItem{}  // calls to look up by number
	byEmail := map[string][]*pushItem{} // calls to look up by agent
	formOf := map[string]string{}       // written form -> E.164
	var forms []string
	for _, it := range items {
		if it.done() {
			continue
		}
		switch {
		case !st.LinkWho || whoField == "":
			it.link.match = matchOff
		case it.priorWhoID != "" && it.recordID != "":
			// The record has the WhoId syncd set: never sent again.
		case strings.TrimSpace(it.payload.CustomerPhone) == "":
			it.link.match = matchNone
		default:
			n, err := phone.Parse(it.payload.CustomerPhone, it.region)
			if err != nil {
				it.link.match = matchInvalid
				break
			}
			byE164[n.E164] = append(byE164[n.E164], it)
			for _, f := range n.Forms {
				if _, seen := formOf[f]; !seen {
					formOf[f] = n.E164
					forms = append(forms, f)
				}
			}
		}
		if !st.AssignOwner || ownerField == "" || it.recordID != "" {
			continue // an update never sends an owner
		}
		email := strings.ToLower(strings.TrimSpace(it.payload.AgentEmail))
		if email == "" {
			it.link.ownerNote = ownerNoAgentEmail
			continue
		}
		if u, ok := users.get(email, now); ok {
			it.link.ownerID, it.link.ownerNote = ownerOf(u)
			continue
		}
		byEmail[email] = append(byEmail[email], it)
	}

	var contactQueries, leadQueries, queries []string
	var contactFields, leadFields []string
	if len(forms) > 0 {
		contactFields, leadFields = st.MatchFields()
		contactQueries = matchQueries("Contact", contactFields, forms, "")
		leadQueries = matchQueries("Lead", leadFields, forms, "IsConverted = false")
		queries = append(append(queries, contactQueries...), leadQueries...)
	}
	emails := make([]string, 0, len(byEmail))
	for email := range byEmail {
		emails = append(emails, email)
	}
	if len(emails) > 0 {
		queries = append(queries, "SELECT Id, Email, IsActive FROM User WHERE Email IN ("+quoteAll(emails)+")")
	}
	if len(queries) == 0 {
		return
	}
	// One Composite request holds them all, unless a batch's numbers need
	// more queries than one may hold.
	var results [][]salesforce.Fields
	var err error
	for group := range slices.Chunk(queries, salesforce.MaxQueryMany) {
		var got [][]salesforce.Fields
		if got, err = client.QueryMany(ctx, group...); err != nil {
			break
		}
		results = append(results, got...)
	}
	if err != nil {
		for _, calls := range byE164 {
			for _, it := range calls {
				it.link.match = matchError
			}
		}
		for _, calls := range byEmail {
			for _, it := range calls {
				it.link.ownerNote = ownerError
			}
		}
		return
	}

	if len(forms) > 0 {
		contacts := candidates(newestFirst(results[:len(contactQueries)]), contactFields, formOf)
		results = results[len(contactQueries):]
		leads := candidates(newestFirst(results[:len(leadQueries)]), leadFields, formOf)
		results = results[len(leadQueries):]
		for e164, calls := range byE164 {
			whoType, found := "Contact", contacts[e164]
			if len(found) == 0 {
				whoType, found = "Lead", leads[e164]
			}
			for _, it := range calls {
				switch len(found) {
				case 0:
					it.link.match = matchNone
				case 1:
					it.link.match, it.link.whoID, it.link.whoType = matchMatched, found[0], whoType
				default:
					it.link.match, it.link.whoID, it.link.whoType = fmt.Sprintf("ambiguous:%d", len(found)), found[0], whoType
				}
			}
		}
	}
	if len(emails) > 0 {
		found := map[string]cachedUser{}
		for _, rec := range results[0] {
			email, _ := rec["Email"].(string)
			id, _ := rec["Id"].(string)
			active, _ := rec["IsActive"].(bool)
			email = strings.ToLower(email)
			if u, seen := found[email]; !seen || (active && !u.active) { // an active user wins
				found[email] = cachedUser{id: id, active: active, at: now}
			}
		}
		for email, calls := range byEmail {
			u, ok := found[email]
			if !ok {
				u = cachedUser{at: now}
			}
			users.put(email, u)
			for _, it := range calls {
				it.link.ownerID, it.link.ownerNote = ownerOf(u)
			}
		}
	}
}

// ownerOf is the owner a user makes, or why there is none.
func ownerOf(u cachedUser) (id, note string) {
	switch {
	case u.id == "":
		return "", ownerNoUser
	case !u.active:
		return "", ownerInactiveUser
	}
	return u.id, ""
}

// maxSOQL is the longest match query syncd sends, below Salesforce's
// 100,000 characters.
const maxSOQL = 90_000

// matchQueries is the SOQL that finds the records of object with one of
// the written forms in one of fields, newest first (ties by ID, so the
// choice is the same every time): one query, or as many as keep each
// within maxSOQL.
func matchQueries(object string, fields, forms []string, also string) []string {
	query := func(forms []string) string {
		values := quoteAll(forms)
		conds := make([]string, len(fields))
		for i, f := range fields {
			conds[i] = f + " IN (" + values + ")"
		}
		where := strings.Join(conds, " OR ")
		if also != "" {
			where = also + " AND (" + where + ")"
		}
		return "SELECT Id, LastModifiedDate, " + strings.Join(fields, ", ") + " FROM " + object +
			" WHERE " + where + " ORDER BY LastModifiedDate DESC, Id"
	}
	if q := query(forms); len(q) <= maxSOQL || len(forms) == 1 {
		return []string{q}
	}
	half := len(forms) / 2
	return append(matchQueries(object, fields, forms[:half], also), matchQueries(object, fields, forms[half:], also)...)
}

// newestFirst merges the results of one object's match queries: each
// record once, the most recently modified first, ties by ID.
func newestFirst(results [][]salesforce.Fields) []salesforce.Fields {
	if len(results) == 1 {
		return results[0]
	}
	seen := map[string]bool{}
	var out []salesforce.Fields
	for _, records := range results {
		for _, rec := range records {
			if id, _ := rec["Id"].(string); !seen[id] {
				seen[id] = true
				out = append(out, rec)
			}
		}
	}
	// Salesforce writes datetimes in UTC with a fixed width: they sort as
	// strings.
	slices.SortStableFunc(out, func(a, b salesforce.Fields) int {
		am, _ := a["LastModifiedDate"].(string)
		bm, _ := b["LastModifiedDate"].(string)
		if c := strings.Compare(bm, am); c != 0 {
			return c
		}
		ai, _ := a["Id"].(string)
		bi, _ := b["Id"].(string)
		return strings.Compare(ai, bi)
	})
	return out
}

// candidates lists, by E.164 number, the IDs of the records (newest first,
// as queried) whose fields hold one of its written forms.
func candidates(records []salesforce.Fields, fields []string, formOf map[string]string) map[string][]string {
	out := map[string][]string{}
	for _, rec := range records {
		id, _ := rec["Id"].(string)
		seen := map[string]bool{}
		for _, f := range fields {
			v, _ := rec[f].(string)
			e164, ok := formOf[v]
			if !ok || seen[e164] {
				continue
			}
			seen[e164] = true
			out[e164] = append(out[e164], id)
		}
	}
	return out
}

func quoteAll(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = salesforce.QuoteSOQL(v)
	}
	return strings.Join(quoted, ", ")
}

// linkRecord adds to a record the links the push may send: on a create,
// the WhoId and owner found; on an update, the WhoId only when the record
// has none syncd set before (a person may have changed it since), and never
// the owner.
func linkRecord(f salesforce.Fields, it *pushItem, st *settings.Salesforce, create bool) salesforce.Fields {
	whoField, ownerField := linkFields(st)
	if !create && it.priorWhoID != "" {
		return f
	}
	out := maps.Clone(f) // f is the call's base record, shared by every attempt
	if whoField != "" && it.link.whoID != "" {
		out[whoField] = it.link.whoID
		it.link.sentWho = true
	}
	if create && ownerField != "" && it.link.ownerID != "" {
		out[ownerField] = it.link.ownerID
		it.link.sentOwner = true
	}
	if create && st.ObjectType == "Task" {
		out[mapping.TaskSubtype] = mapping.TaskSubtypeCall
	}
	return out
}
