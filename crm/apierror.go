package crm

import (
	"fmt"
	"log/slog"
	"strings"
)

// ErrorText returns how an API error of a CRM client begins:
// "CLIENT: OP: HTTP STATUS CODE: MESSAGE", with "not sent" in place of
// "HTTP STATUS" when status is 0 (a call refused before sending) and without
// CODE or MESSAGE when they are empty. The client appends what only it
// knows, such as the fields the error is about.
func ErrorText(client, op string, status int, code, message string) string {
	var b strings.Builder
	b.WriteString(client)
	b.WriteString(": ")
	b.WriteString(op)
	if status == 0 {
		b.WriteString(": not sent")
	} else {
		fmt.Fprintf(&b, ": HTTP %d", status)
	}
	if code != "" {
		b.WriteString(" ")
		b.WriteString(code)
	}
	if message != "" {
		b.WriteString(": ")
		b.WriteString(message)
	}
	return b.String()
}

// ErrorAttrs returns the log attributes every CRM client gives an API error:
// "op", "status" and "code". It takes no message: a CRM's messages can quote
// call content and are never logged.
func ErrorAttrs(op string, status int, code string) []slog.Attr {
	return []slog.Attr{
		slog.String("op", op),
		slog.Int("status", status),
		slog.String("code", code),
	}
}
