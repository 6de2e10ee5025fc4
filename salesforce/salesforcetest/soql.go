package salesforcetest

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/koeiq/syncd/salesforce"
)

// The SOQL this server understands:
//
//	SELECT field[, field ...] FROM object
//	  [WHERE condition]
//	  [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST][, ...]]
//	  [LIMIT n]
//
// where a condition is a comparison, "(condition)", or comparisons and
// parenthesised conditions joined all by AND or all by OR: as in
// Salesforce, which requires parentheses whenever AND and OR are mixed,
// "a AND b OR c" is MALFORMED_QUERY and "a AND (b OR c)" is not. A
// comparison is "field op literal" with op one of =, !=, <>, <, <=, >, >=,
// or "field [NOT] IN (literal, ...)"; a literal is a quoted string (with
// SOQL's escape sequences), a number, a date (2026-01-15), a datetime
// (2026-01-15T10:00:00Z, or with an offset), true, false or null. Keywords,
// objects and fields are case-insensitive and string comparisons too, as in
// Salesforce. A statement may be at most 100,000 characters long. Anything
// else is MALFORMED_QUERY.

// maxSOQLLength is Salesforce's default limit on the length of a SOQL
// statement (Limits Quick Reference: "Maximum length of SOQL statements").
const maxSOQLLength = 100_000

type tokenKind int

const (
	tokIdent tokenKind = iota + 1
	tokString
	tokNumber // numbers, dates and datetimes: unquoted literals starting with a digit or '-'
	tokPunct
	tokEOF
)

type token struct {
	kind tokenKind
	text string // the decoded value for strings
}

func malformed(format string, args ...any) *sfError {
	return newError(http.StatusBadRequest, "MALFORMED_QUERY", fmt.Sprintf(format, args...))
}

func lex(q string) ([]token, *sfError) {
	var toks []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			s, n, err := lexString(q[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, s})
			i += n
		case isIdentStart(c):
			j := i + 1
			for j < len(q) && (isIdentStart(q[j]) || isDigit(q[j]) || q[j] == '.') {
				j++
			}
			toks = append(toks, token{tokIdent, q[i:j]})
			i = j
		case isDigit(c) || c == '-' && i+1 < len(q) && isDigit(q[i+1]):
			j := i + 1
			for j < len(q) && (isDigit(q[j]) || isIdentStart(q[j]) || strings.IndexByte(".:+-", q[j]) >= 0) {
				j++
			}
			toks = append(toks, token{tokNumber, q[i:j]})
			i = j
		case c == '!' || c == '<' || c == '>':
			next := byte(0)
			if i+1 < len(q) {
				next = q[i+1]
			}
			switch {
			case c == '!' && next == '=', c == '<' && next == '>':
				toks = append(toks, token{tokPunct, "!="})
				i += 2
			case next == '=':
				toks = append(toks, token{tokPunct, string(c) + "="})
				i += 2
			case c != '!':
				toks = append(toks, token{tokPunct, string(c)})
				i++
			default:
				return nil, malformed("unexpected token: '%c'", c)
			}
		case strings.IndexByte("(),=", c) >= 0:
			toks = append(toks, token{tokPunct, string(c)})
			i++
		default:
			r, _ := utf8.DecodeRuneInString(q[i:])
			return nil, malformed("unexpected token: '%c'", r)
		}
	}
	return append(toks, token{kind: tokEOF}), nil
}

// lexString decodes a quoted string literal at the start of s and returns it
// with the number of bytes it took.
func lexString(s string) (string, int, *sfError) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'':
			return b.String(), i + 1, nil
		case '\\':
			i++
			if i >= len(s) {
				return "", 0, malformed("unterminated string literal")
			}
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '"', '\'', '\\':
				b.WriteByte(s[i])
			case 'u':
				if i+4 >= len(s) {
					return "", 0, malformed("invalid unicode escape in string literal")
				}
				n, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
				if err != nil {
					return "", 0, malformed("invalid unicode escape in string literal")
				}
				b.WriteRune(rune(n))
				i += 4
			default:
				return "", 0, malformed("Invalid string literal: illegal escape sequence '\\%c'", s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, malformed("unterminated string literal")
}

func isIdentStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }

type condition struct {
	field  string
	op     string // "=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN"
	values []token
}

// expr is a WHERE condition: a comparison (op ""), or the conditions in
// kids joined by op "AND" or "OR".
type expr struct {
	op   string
	kids []*expr
	cond condition
}

// conditions returns the comparisons of e in the order written.
func (e *expr) conditions() []condition {
	if e == nil {
		return nil
	}
	if e.op == "" {
		return []condition{e.cond}
	}
	var out []condition
	for _, k := range e.kids {
		out = append(out, k.conditions()...)
	}
	return out
}

type orderItem struct {
	field      string
	desc       bool
	nullsFirst bool
}

type soqlQuery struct {
	fields  []string
	object  string
	where   *expr // nil: none
	orderBy []orderItem
	limit   int // -1: none
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *parser) keyword(kw string) bool {
	if t := p.peek(); t.kind == tokIdent && strings.EqualFold(t.text, kw) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expectKeyword(kw string) *sfError {
	if !p.keyword(kw) {
		return p.unexpected()
	}
	return nil
}

func (p *parser) unexpected() *sfError {
	t := p.peek()
	if t.kind == tokEOF {
		return malformed("unexpected end of query")
	}
	return malformed("unexpected token: '%s'", t.text)
}

func (p *parser) ident() (string, *sfError) {
	t := p.peek()
	if t.kind != tokIdent || isKeyword(t.text) {
		return "", p.unexpected()
	}
	p.pos++
	return t.text, nil
}

func isKeyword(s string) bool {
	switch strings.ToUpper(s) {
	case "SELECT", "FROM", "WHERE", "AND", "OR", "IN", "ORDER", "BY", "LIMIT", "ASC", "DESC", "NOT",
		"NULL", "NULLS", "FIRST", "LAST", "LIKE", "GROUP", "HAVING", "WITH", "INCLUDES", "EXCLUDES":
		return true
	}
	return false
}

func (p *parser) literal() (token, *sfError) {
	t := p.peek()
	switch {
	case t.kind == tokString || t.kind == tokNumber:
		p.pos++
		return t, nil
	case t.kind == tokIdent && (strings.EqualFold(t.text, "null") || strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")):
		p.pos++
		return token{tokIdent, strings.ToLower(t.text)}, nil
	}
	return token{}, p.unexpected()
}

// condition parses a WHERE condition: terms joined all by AND or all by OR.
func (p *parser) condition() (*expr, *sfError) {
	first, err := p.term()
	if err != nil {
		return nil, err
	}
	e := &expr{kids: []*expr{first}}
	for {
		t := p.peek()
		if t.kind != tokIdent || !strings.EqualFold(t.text, "AND") && !strings.EqualFold(t.text, "OR") {
			break
		}
		op := strings.ToUpper(t.text)
		if e.op != "" && e.op != op {
			// Salesforce requires parentheses when AND and OR are mixed.
			return nil, malformed("unexpected token: '%s'", t.text)
		}
		e.op = op
		p.pos++
		k, err := p.term()
		if err != nil {
			return nil, err
		}
		e.kids = append(e.kids, k)
	}
	if e.op == "" {
		return first, nil
	}
	return e, nil
}

// term parses a parenthesised condition or a comparison.
func (p *parser) term() (*expr, *sfError) {
	if t := p.peek(); t.kind == tokPunct && t.text == "(" {
		p.pos++
		e, err := p.condition()
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tokPunct || t.text != ")" {
			return nil, malformed("expecting a right parentheses, found '%s'", t.text)
		}
		return e, nil
	}
	c := condition{}
	var err *sfError
	if c.field, err = p.ident(); err != nil {
		return nil, err
	}
	switch t := p.next(); {
	case t.kind == tokPunct && slices.Contains([]string{"=", "!=", "<", "<=", ">", ">="}, t.text):
		c.op = t.text
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		c.values = []token{v}
	case t.kind == tokIdent && (strings.EqualFold(t.text, "IN") || strings.EqualFold(t.text, "NOT")):
		c.op = "IN"
		if strings.EqualFold(t.text, "NOT") {
			if !p.keyword("IN") {
				return nil, p.unexpected()
			}
			c.op = "NOT IN"
		}
		if t := p.next(); t.kind != tokPunct || t.text != "(" {
			return nil, malformed("expecting '(' after IN")
		}
		for {
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			c.values = append(c.values, v)
			t := p.next()
			if t.kind == tokPunct && t.text == ")" {
				break
			}
			if t.kind != tokPunct || t.text != "," {
				return nil, malformed("expecting ',' or ')' in IN list")
			}
		}
	case t.kind == tokEOF:
		return nil, malformed("unexpected end of query")
	default:
		return nil, malformed("unexpected token: '%s'", t.text)
	}
	return &expr{cond: c}, nil
}

func parseSOQL(q string) (*soqlQuery, *sfError) {
	if utf16Len(q) > maxSOQLLength {
		return nil, malformed("SOQL statements can not be longer than %d characters.", maxSOQLLength)
	}
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	sq := &soqlQuery{limit: -1}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	for {
		f, err := p.ident()
		if err != nil {
			return nil, err
		}
		sq.fields = append(sq.fields, f)
		if t := p.peek(); t.kind != tokPunct || t.text != "," {
			break
		}
		p.next()
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	if sq.object, err = p.ident(); err != nil {
		return nil, err
	}
	if p.keyword("WHERE") {
		if sq.where, err = p.condition(); err != nil {
			return nil, err
		}
	}
	if p.keyword("ORDER") {
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		for {
			var item orderItem
			if item.field, err = p.ident(); err != nil {
				return nil, err
			}
			if p.keyword("DESC") {
				item.desc = true
			} else {
				p.keyword("ASC")
			}
			item.nullsFirst = !item.desc // Salesforce's default
			if p.keyword("NULLS") {
				switch {
				case p.keyword("FIRST"):
					item.nullsFirst = true
				case p.keyword("LAST"):
					item.nullsFirst = false
				default:
					return nil, p.unexpected()
				}
			}
			sq.orderBy = append(sq.orderBy, item)
			if t := p.peek(); t.kind != tokPunct || t.text != "," {
				break
			}
			p.next()
		}
	}
	if p.keyword("LIMIT") {
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != tokNumber || err != nil || n < 0 {
			return nil, malformed("LIMIT must be a non-negative integer")
		}
		sq.limit = n
	}
	if p.peek().kind != tokEOF {
		return nil, p.unexpected()
	}
	return sq, nil
}

// run executes a parsed query against obj and returns the projected rows.
// The caller holds o.mu.
func (o *Org) run(sq *soqlQuery) ([]map[string]any, *sfError) {
	obj := o.object(sq.object)
	if obj == nil {
		return nil, newError(http.StatusBadRequest, "INVALID_TYPE", fmt.Sprintf(
			"sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
			sq.object))
	}
	noColumn := func(name string) *sfError {
		return newError(http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf(
			"No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
			name, obj.name))
	}
	var selected []*field
	for _, name := range sq.fields {
		f := obj.field(name)
		if f == nil {
			return nil, noColumn(name)
		}
		selected = append(selected, f)
	}

	match, err := o.compile(obj, sq.where, noColumn)
	if err != nil {
		return nil, err
	}
	type sortKey struct {
		f    *field
		item orderItem
	}
	var keys []sortKey
	for _, item := range sq.orderBy {
		f := obj.field(item.field)
		if f == nil {
			return nil, noColumn(item.field)
		}
		if !f.filterable() {
			return nil, newError(http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("field '%s' can not be sorted in a query call", f.Name))
		}
		keys = append(keys, sortKey{f, item})
	}

	var ids []string
	for _, id := range obj.order {
		rec, ok := obj.records[id]
		if !ok {
			continue
		}
		if match == nil || match(rec) {
			ids = append(ids, id)
		}
	}

	if len(keys) > 0 {
		slices.SortStableFunc(ids, func(a, b string) int {
			for _, k := range keys {
				x, y := obj.records[a][k.f.Name], obj.records[b][k.f.Name]
				var c int
				switch {
				case x == nil && y == nil:
				case x == nil || y == nil:
					c = 1
					if (x == nil) == k.item.nullsFirst {
						c = -1
					}
				default:
					c = compareField(k.f, x, y)
					if k.item.desc {
						c = -c
					}
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	if sq.limit >= 0 && len(ids) > sq.limit {
		ids = ids[:sq.limit]
	}

	rows := make([]map[string]any, len(ids))
	for i, id := range ids {
		rec := obj.records[id]
		row := map[string]any{"attributes": attributes(obj, id)}
		for _, f := range selected {
			row[f.Name] = rec[f.Name]
		}
		rows[i] = row
	}
	return rows, nil
}

// compile turns a WHERE condition into a test of a record (nil for none),
// resolving its fields and literals. The caller holds o.mu.
func (o *Org) compile(obj *object, e *expr, noColumn func(string) *sfError) (func(map[string]any) bool, *sfError) {
	if e == nil {
		return nil, nil
	}
	if e.op != "" {
		var kids []func(map[string]any) bool
		for _, k := range e.kids {
			m, err := o.compile(obj, k, noColumn)
			if err != nil {
				return nil, err
			}
			kids = append(kids, m)
		}
		if e.op == "AND" {
			return func(rec map[string]any) bool {
				return !slices.ContainsFunc(kids, func(m func(map[string]any) bool) bool { return !m(rec) })
			}, nil
		}
		return func(rec map[string]any) bool {
			return slices.ContainsFunc(kids, func(m func(map[string]any) bool) bool { return m(rec) })
		}, nil
	}

	c := e.cond
	f := obj.field(c.field)
	if f == nil {
		return nil, noColumn(c.field)
	}
	if !f.filterable() {
		return nil, newError(http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("field '%s' can not be filtered in a query call", f.Name))
	}
	var wants []any
	for _, lit := range c.values {
		v, err := literalFor(f, lit)
		if err != nil {
			return nil, err
		}
		wants = append(wants, v)
	}
	switch c.op {
	case "=", "!=", "IN", "NOT IN":
		negate := c.op == "!=" || c.op == "NOT IN"
		return func(rec map[string]any) bool {
			got := rec[f.Name]
			for _, want := range wants {
				if soqlEqual(got, want) {
					return !negate
				}
			}
			return negate
		}, nil
	}
	if f.kind == kindBool {
		return nil, newError(http.StatusBadRequest, "INVALID_QUERY_FILTER_OPERATOR", fmt.Sprintf(
			"invalid operator on boolean field '%s'", f.Name))
	}
	want := wants[0]
	if id, ok := want.(idValue); ok {
		want = string(id)
	}
	return func(rec map[string]any) bool {
		got := rec[f.Name]
		if got == nil || want == nil {
			return false
		}
		n := compareField(f, got, want)
		switch c.op {
		case "<":
			return n < 0
		case "<=":
			return n <= 0
		case ">":
			return n > 0
		}
		return n >= 0
	}, nil
}

// compareField orders two non-null values of field f: IDs as written (their
// characters sort in creation order), other text case-insensitively,
// numbers, dates and datetimes (stored in one UTC format) by value.
func compareField(f *field, a, b any) int {
	if f.Type == "id" || f.Type == "reference" {
		x, _ := a.(string)
		y, _ := b.(string)
		return cmp.Compare(x, y)
	}
	return compareValues(a, b)
}

// literalFor converts a literal for comparison with field f, refusing the
// combinations Salesforce refuses.
func literalFor(f *field, lit token) (any, *sfError) {
	if lit.kind == tokIdent && lit.text == "null" {
		return nil, nil
	}
	wrong := func(typ string, quoted bool) (any, *sfError) {
		how := "should not be enclosed in quotes"
		if quoted {
			how = "should be enclosed in quotes"
		}
		return nil, newError(http.StatusBadRequest, "INVALID_QUERY_FILTER_OPERATOR", fmt.Sprintf(
			"value of filter criterion for field '%s' must be of type %s and %s", f.Name, typ, how))
	}
	switch f.kind {
	case kindText:
		if lit.kind != tokString {
			return wrong("string", true)
		}
		if f.Type == "id" || f.Type == "reference" {
			id, ok := canonicalID(lit.text)
			if !ok {
				return nil, newError(http.StatusBadRequest, "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: "+lit.text)
			}
			return idValue(id), nil
		}
		return lit.text, nil
	case kindInt, kindDouble:
		if lit.kind != tokNumber {
			return wrong("double", false)
		}
		x, err := strconv.ParseFloat(lit.text, 64)
		if err != nil {
			return wrong("double", false)
		}
		return x, nil
	case kindBool:
		if lit.kind != tokIdent {
			return wrong("boolean", false)
		}
		return lit.text == "true", nil
	case kindDate:
		if lit.kind != tokNumber {
			return wrong("date", false)
		}
		if _, err := time.Parse(time.DateOnly, lit.text); err != nil {
			return wrong("date", false)
		}
		return lit.text, nil
	case kindDateTime:
		if lit.kind != tokNumber {
			return wrong("datetime", false)
		}
		t, ok := parseDateTime(lit.text)
		if !ok {
			return wrong("datetime", false)
		}
		return formatDateTime(t), nil
	}
	return nil, malformed("cannot filter on field '%s'", f.Name)
}

// idValue marks an ID literal, compared by its canonical 18-character form.
type idValue string

func soqlEqual(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case idValue:
		s, _ := got.(string)
		id, ok := canonicalID(s)
		return ok && id == string(w)
	case string:
		s, ok := got.(string)
		return ok && strings.EqualFold(s, w)
	}
	return got == want
}

// compareValues orders nulls first, then numbers, booleans or strings.
func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return cmp.Compare(strings.ToLower(x), strings.ToLower(y))
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	}
	return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// query answers GET /query?q=SOQL with the first page.
func (o *Org) query(r *http.Request, _ []byte) reply {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		return errorReply(malformed("A query string must be provided"))
	}
	sq, err := parseSOQL(q)
	if err != nil {
		return errorReply(err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	rows, err := o.run(sq)
	if err != nil {
		return errorReply(err)
	}
	return o.page(rows, len(rows), 0)
}

// queryMore answers GET /query/{locator} with the next page.
func (o *Org) queryMore(locator string) handler {
	return func(*http.Request, []byte) reply {
		o.mu.Lock()
		defer o.mu.Unlock()
		rows, ok := o.cursors[locator]
		if !ok {
			return errorReply(newError(http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator"))
		}
		delete(o.cursors, locator)
		_, offsetStr, _ := strings.Cut(locator, "-")
		offset, _ := strconv.Atoi(offsetStr)
		return o.page(rows, offset+len(rows), offset)
	}
}

// page answers one batch of rows and keeps the rest behind a locator. The
// caller holds o.mu.
func (o *Org) page(rows []map[string]any, total, offset int) reply {
	body := map[string]any{"totalSize": total, "done": true}
	if len(rows) > o.batchSize {
		next := offset + o.batchSize
		locator := o.newID("01g") + "-" + strconv.Itoa(next)
		o.cursors[locator] = rows[o.batchSize:]
		rows = rows[:o.batchSize]
		body["done"] = false
		body["nextRecordsUrl"] = "/services/data/" + salesforce.APIVersion + "/query/" + locator
	}
	body["records"] = rows
	return reply{status: http.StatusOK, body: body}
}
