package kintonetest

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// The query language of Get Records, as far as this package supports it:
//
//	query   = [expr] {"order by" field ["asc"|"desc"] {"," ...}} ["limit" N] ["offset" N]
//	expr    = and {"or" and}
//	and     = primary {"and" primary}
//	primary = "(" expr ")" | cond
//	cond    = field ("="|"!="|"<"|">"|"<="|">=") value
//	        | field ["not"] "in" "(" value {"," value} ")"
//	        | field ["not"] "like" string
//	        | field "is" ["not"] "empty"
//	value   = string | number
//	string  = '"' {char | '\"' | '\\'} '"'
//
// Keywords are case-insensitive. Functions such as TODAY() are not
// supported. Field codes are bare, "$id" is the record ID.

type query struct {
	where  node
	order  []orderKey
	limit  int
	offset int
}

type orderKey struct {
	field string
	desc  bool
}

type node interface{}

type andNode struct{ left, right node }
type orNode struct{ left, right node }

type cond struct {
	field  string
	op     string // = != < > <= >= in "not in" like "not like" "is empty" "is not empty"
	values []literal
}

type literal struct {
	text   string
	number bool
}

const (
	defaultLimit = 100
	maxLimit     = 500
	maxOffset    = 10000
)

func queryError() *apiError {
	return validationError(map[string][]string{"query": {"The query is invalid."}})
}

type token struct {
	kind byte // 'i' ident, 's' string, 'n' number, 'o' operator, '(' ')' ','
	text string
}

func tokenize(q string) ([]token, bool) {
	var toks []token
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(' || r == ')' || r == ',':
			toks = append(toks, token{kind: byte(r), text: string(r)})
			i++
		case r == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(rs) {
				c := rs[i]
				if c == '\\' && i+1 < len(rs) {
					b.WriteRune(rs[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				b.WriteRune(c)
				i++
			}
			if !closed {
				return nil, false
			}
			toks = append(toks, token{kind: 's', text: b.String()})
		case r == '=' || r == '<' || r == '>' || r == '!':
			op := string(r)
			if i+1 < len(rs) && rs[i+1] == '=' {
				op += "="
			}
			if op == "!" {
				return nil, false
			}
			toks = append(toks, token{kind: 'o', text: op})
			i += len(op)
		case r == '-' || (r >= '0' && r <= '9'):
			j := i + 1
			for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || rs[j] == '.') {
				j++
			}
			text := string(rs[i:j])
			if _, err := strconv.ParseFloat(text, 64); err != nil {
				return nil, false
			}
			toks = append(toks, token{kind: 'n', text: text})
			i = j
		case unicode.IsLetter(r) || r == '_' || r == '$' || strings.ContainsRune("＿・･＄￥", r):
			j := i + 1
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || strings.ContainsRune("_$＿・･＄￥", rs[j])) {
				j++
			}
			toks = append(toks, token{kind: 'i', text: string(rs[i:j])})
			i = j
		default:
			// Single quotes among others: Kintone accepts double quotes only.
			return nil, false
		}
	}
	return toks, true
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{}
}

func (p *parser) next() token {
	t := p.peek()
	p.pos++
	return t
}

// keyword reports whether the next token is the keyword kw, consuming it.
func (p *parser) keyword(kw string) bool {
	if t := p.peek(); t.kind == 'i' && strings.EqualFold(t.text, kw) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) atKeyword(kws ...string) bool {
	t := p.peek()
	return t.kind == 'i' && slices.ContainsFunc(kws, func(kw string) bool { return strings.EqualFold(t.text, kw) })
}

func parseQuery(q string) (*query, *apiError) {
	toks, ok := tokenize(q)
	if !ok {
		return nil, queryError()
	}
	p := &parser{toks: toks}
	out := &query{limit: defaultLimit}
	if p.peek().kind != 0 && !p.atKeyword("order", "limit", "offset") {
		n, ok := p.expr()
		if !ok {
			return nil, queryError()
		}
		out.where = n
	}
	if p.keyword("order") {
		if !p.keyword("by") {
			return nil, queryError()
		}
		for {
			t := p.next()
			if t.kind != 'i' {
				return nil, queryError()
			}
			k := orderKey{field: t.text}
			if p.keyword("desc") {
				k.desc = true
			} else {
				p.keyword("asc")
			}
			out.order = append(out.order, k)
			if p.peek().kind != ',' {
				break
			}
			p.next()
		}
	}
	for p.atKeyword("limit", "offset") {
		kw := strings.ToLower(p.next().text)
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != 'n' || err != nil || n < 0 {
			return nil, queryError()
		}
		if kw == "limit" {
			if n > maxLimit {
				return nil, newError(http.StatusBadRequest, "GAIA_QU01", "limit must be 500 or less.")
			}
			out.limit = n
		} else {
			if n > maxOffset {
				return nil, newError(http.StatusBadRequest, "GAIA_QU02", "offset must be 10,000 or less.")
			}
			out.offset = n
		}
	}
	if p.peek().kind != 0 {
		return nil, queryError()
	}
	return out, nil
}

func (p *parser) expr() (node, bool) {
	return p.chain("or", p.and, func(l, r node) node { return &orNode{l, r} })
}

func (p *parser) and() (node, bool) {
	return p.chain("and", p.primary, func(l, r node) node { return &andNode{l, r} })
}

// chain parses operands separated by the keyword op, joined left to right.
func (p *parser) chain(op string, operand func() (node, bool), join func(l, r node) node) (node, bool) {
	left, ok := operand()
	for ok && p.keyword(op) {
		var right node
		right, ok = operand()
		left = join(left, right)
	}
	return left, ok
}

func (p *parser) primary() (node, bool) {
	if p.peek().kind == '(' {
		p.next()
		n, ok := p.expr()
		if !ok || p.next().kind != ')' {
			return nil, false
		}
		return n, true
	}
	return p.cond()
}

func (p *parser) cond() (node, bool) {
	f := p.next()
	if f.kind != 'i' || p.peek().kind == '(' { // a function call
		return nil, false
	}
	c := &cond{field: f.text}
	switch {
	case p.peek().kind == 'o':
		c.op = p.next().text
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		c.values = []literal{v}
	case p.keyword("not"):
		switch {
		case p.keyword("in"):
			c.op = "not in"
		case p.keyword("like"):
			c.op = "not like"
		default:
			return nil, false
		}
	case p.keyword("in"):
		c.op = "in"
	case p.keyword("like"):
		c.op = "like"
	case p.keyword("is"):
		c.op = "is empty"
		if p.keyword("not") {
			c.op = "is not empty"
		}
		if !p.keyword("empty") {
			return nil, false
		}
		return c, true
	default:
		return nil, false
	}
	switch c.op {
	case "in", "not in":
		if p.next().kind != '(' {
			return nil, false
		}
		for {
			v, ok := p.value()
			if !ok {
				return nil, false
			}
			c.values = append(c.values, v)
			t := p.next()
			if t.kind == ')' {
				break
			}
			if t.kind != ',' {
				return nil, false
			}
		}
	case "like", "not like":
		t := p.next()
		if t.kind != 's' {
			return nil, false
		}
		c.values = []literal{{text: t.text}}
	}
	return c, true
}

func (p *parser) value() (literal, bool) {
	switch t := p.next(); t.kind {
	case 's':
		return literal{text: t.text}, true
	case 'n':
		return literal{text: t.text, number: true}, true
	}
	return literal{}, false
}

// allowedOps are the operators each field type supports in queries.
var allowedOps = map[string][]string{
	"__ID__":           {"=", "!=", "<", ">", "<=", ">=", "in", "not in"},
	"RECORD_NUMBER":    {"=", "!=", "<", ">", "<=", ">=", "in", "not in"},
	"SINGLE_LINE_TEXT": {"=", "!=", "in", "not in", "like", "not like"},
	"LINK":             {"=", "!=", "in", "not in", "like", "not like"},
	"NUMBER":           {"=", "!=", "<", ">", "<=", ">=", "in", "not in"},
	"MULTI_LINE_TEXT":  {"like", "not like", "is empty", "is not empty"},
	"DATE":             {"=", "!=", "<", ">", "<=", ">="},
	"DATETIME":         {"=", "!=", "<", ">", "<=", ">="},
	"DROP_DOWN":        {"in", "not in"},
	"RADIO_BUTTON":     {"in", "not in"},
	"CHECK_BOX":        {"in", "not in"},
	"MULTI_SELECT":     {"in", "not in"},
}

// fieldType returns the type of a query field, "" if the app has none.
func (a *App) fieldType(code string) string {
	switch code {
	case "$id":
		return "__ID__"
	case recordNumber:
		return "RECORD_NUMBER"
	}
	return a.byCode[code].Type
}

// checkQuery rejects unknown fields (GAIA_IQ11), operators a field type does
// not support (GAIA_IQ03) and values that do not fit the field.
func (a *App) checkQuery(q *query) *apiError {
	var check func(n node) *apiError
	check = func(n node) *apiError {
		switch n := n.(type) {
		case *andNode:
			return cmp.Or(check(n.left), check(n.right))
		case *orNode:
			return cmp.Or(check(n.left), check(n.right))
		case *cond:
			typ := a.fieldType(n.field)
			if typ == "" {
				return newError(http.StatusBadRequest, "GAIA_IQ11", fmt.Sprintf("Specified field (%s) not found.", n.field))
			}
			if !slices.Contains(allowedOps[typ], n.op) {
				return newError(http.StatusBadRequest, "GAIA_IQ03", fmt.Sprintf("The operator %s cannot be used for the field type of %s.", n.op, n.field))
			}
			for i, v := range n.values {
				switch typ {
				case "__ID__", "RECORD_NUMBER", "NUMBER":
					if !numberRE.MatchString(v.text) {
						return queryError()
					}
				case "DATE":
					d, ok := normalizeDate(v.text)
					if !ok {
						return queryError()
					}
					n.values[i].text = d
				case "DATETIME":
					d, ok := normalizeDateTime(v.text)
					if !ok {
						return queryError()
					}
					n.values[i].text = d
				}
			}
		}
		return nil
	}
	if err := check(q.where); err != nil {
		return err
	}
	for _, k := range q.order {
		if a.fieldType(k.field) == "" {
			return newError(http.StatusBadRequest, "GAIA_IQ11", fmt.Sprintf("Specified field (%s) not found.", k.field))
		}
	}
	return nil
}

// runQuery returns the matching records in the query's order: by default
// record ID descending, as Kintone does.
func (a *App) runQuery(q *query) []*storedRecord {
	var out []*storedRecord
	for _, id := range slices.Sorted(maps.Keys(a.records)) {
		if rec := a.records[id]; q.where == nil || a.match(q.where, rec) {
			out = append(out, rec)
		}
	}
	order := q.order
	if len(order) == 0 {
		order = []orderKey{{field: "$id", desc: true}}
	}
	slices.SortStableFunc(out, func(x, y *storedRecord) int {
		for _, k := range order {
			c := compareValues(a.fieldType(k.field), a.scalar(x, k.field), a.scalar(y, k.field))
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

// scalar returns a record's value of a single-value field as text.
func (a *App) scalar(rec *storedRecord, code string) string {
	switch a.fieldType(code) {
	case "__ID__", "RECORD_NUMBER":
		return strconv.FormatInt(rec.id, 10)
	}
	s, _ := rec.values[code].(string)
	return s
}

// compareValues orders two values of a field type: numerically for numbers
// and IDs (empty first), as text otherwise, which for normalised dates and
// datetimes is chronological.
func compareValues(typ, x, y string) int {
	switch typ {
	case "__ID__", "RECORD_NUMBER", "NUMBER":
		if x == "" || y == "" {
			return cmp.Compare(len(x), len(y))
		}
		fx, _ := strconv.ParseFloat(x, 64)
		fy, _ := strconv.ParseFloat(y, 64)
		return cmp.Compare(fx, fy)
	}
	return strings.Compare(x, y)
}

func (a *App) match(n node, rec *storedRecord) bool {
	switch n := n.(type) {
	case *andNode:
		return a.match(n.left, rec) && a.match(n.right, rec)
	case *orNode:
		return a.match(n.left, rec) || a.match(n.right, rec)
	case *cond:
		return a.matchCond(n, rec)
	}
	return false
}

func (a *App) matchCond(c *cond, rec *storedRecord) bool {
	typ := a.fieldType(c.field)
	if multiTypes[typ] {
		have, _ := rec.values[c.field].([]string)
		hit := slices.ContainsFunc(c.values, func(v literal) bool { return slices.Contains(have, v.text) })
		return hit == (c.op == "in")
	}
	v := a.scalar(rec, c.field)
	in := func() bool {
		return slices.ContainsFunc(c.values, func(l literal) bool {
			if v == "" {
				return l.text == ""
			}
			return compareValues(typ, v, l.text) == 0
		})
	}
	switch c.op {
	case "=", "!=", "<", ">", "<=", ">=":
		lit := c.values[0].text
		if v == "" || lit == "" {
			// An empty value equals only "" and is never less or greater.
			switch c.op {
			case "=":
				return v == lit
			case "!=":
				return v != lit
			}
			return false
		}
		r := compareValues(typ, v, lit)
		switch c.op {
		case "=":
			return r == 0
		case "!=":
			return r != 0
		case "<":
			return r < 0
		case ">":
			return r > 0
		case "<=":
			return r <= 0
		default:
			return r >= 0
		}
	case "in":
		return in()
	case "not in":
		return !in()
	case "like", "not like":
		found := strings.Contains(strings.ToLower(v), strings.ToLower(c.values[0].text))
		return found == (c.op == "like")
	case "is empty":
		return v == ""
	case "is not empty":
		return v != ""
	}
	return false
}
