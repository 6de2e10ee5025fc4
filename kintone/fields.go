package kintone

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Field describes one field of the app's form, as Get Form Fields reports it.
type Field struct {
	// Code is the field code that records use as the key.
	Code string

	// Type is Kintone's field type, such as "SINGLE_LINE_TEXT", "NUMBER",
	// "DATE", "DATETIME", "DROP_DOWN", "MULTI_LINE_TEXT", "LINK" or
	// "RECORD_NUMBER".
	Type string

	// Label is the field name shown to users.
	Label string

	// Required is the "Required field" option.
	Required bool

	// Unique is the "Prohibit duplicate values" option. Only a unique
	// SINGLE_LINE_TEXT or NUMBER field can be an upsert key.
	Unique bool

	// MaxLength is the maximum number of characters of a text or link field,
	// or 0 when there is no limit.
	MaxLength int

	// Options are the choices of a drop-down, radio button, check box or
	// multi-select field, in display order.
	Options []string
}

// Fields returns the app's live form fields by code (GET
// /k/v1/app/form/fields.json). Fields of a table (SUBTABLE) are not listed
// separately.
func (c *Client) Fields(ctx context.Context) (map[string]Field, error) {
	params := url.Values{"app": {strconv.FormatInt(c.appID, 10)}}
	var resp struct {
		Properties map[string]struct {
			Type      string          `json:"type"`
			Code      string          `json:"code"`
			Label     string          `json:"label"`
			Required  flexBool        `json:"required"`
			Unique    flexBool        `json:"unique"`
			MaxLength json.RawMessage `json:"maxLength"`
			Options   map[string]struct {
				Label string `json:"label"`
				Index string `json:"index"`
			} `json:"options"`
		} `json:"properties"`
	}
	if err := c.do(ctx, "fields", http.MethodGet, "k/v1/app/form/fields.json", params, nil, &resp); err != nil {
		return nil, err
	}
	fields := make(map[string]Field, len(resp.Properties))
	for key, p := range resp.Properties {
		f := Field{
			Code:      cmp.Or(p.Code, key),
			Type:      p.Type,
			Label:     p.Label,
			Required:  bool(p.Required),
			Unique:    bool(p.Unique),
			MaxLength: parseMaxLength(p.MaxLength),
		}
		if len(p.Options) > 0 {
			type opt struct {
				name  string
				index int
			}
			opts := make([]opt, 0, len(p.Options))
			for name, o := range p.Options {
				i, err := strconv.Atoi(o.Index)
				if err != nil {
					i = len(p.Options)
				}
				opts = append(opts, opt{name, i})
			}
			slices.SortFunc(opts, func(a, b opt) int {
				if a.index != b.index {
					return a.index - b.index
				}
				return strings.Compare(a.name, b.name)
			})
			for _, o := range opts {
				f.Options = append(f.Options, o.name)
			}
		}
		fields[f.Code] = f
	}
	return fields, nil
}

// flexBool decodes a JSON boolean, or the strings "true"/"false" that
// Kintone's older form API used.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true":
		*b = true
	case "false", "", "null":
		*b = false
	default:
		return fmt.Errorf("kintone: %s is not a boolean", data)
	}
	return nil
}

// parseMaxLength reads maxLength, which Kintone sends as a string ("64"), an
// empty string for no limit, or possibly a number.
func parseMaxLength(raw json.RawMessage) int {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
