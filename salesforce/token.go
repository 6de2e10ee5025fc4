package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// session is a cached access token and the instance URL it is valid for.
type session struct {
	accessToken string
	base        string    // validated instance_url of the token response, no trailing slash
	expiry      time.Time // zero: unknown (Salesforce sends no expires_in)
}

// tokenFetch is a token request under way; every caller that needs a token
// meanwhile waits for it instead of starting another (single flight).
// It runs on a goroutine of its own, which [Client.Close] cancels and waits
// for.
type tokenFetch struct {
	cancel context.CancelFunc // cancels the request; called by Close
	done   chan struct{}      // closed when the goroutine has set sess and err
	sess   *session
	err    error
}

// CheckCredentials fetches a new access token now, replacing the cached one.
// It is what "Save settings" and "Test connection" call: an error of class
// [crm.ClassAuth] means the credentials or the org's app settings are wrong.
func (c *Client) CheckCredentials(ctx context.Context) error {
	c.mu.Lock()
	c.sess = nil
	c.mu.Unlock()
	_, err := c.session(ctx)
	return err
}

// session returns the cached token or waits for a new one. The request for a
// new one runs detached from ctx (bounded by the Client's Timeout and ended
// by Close), so that a caller giving up does not fail the others waiting for
// it.
func (c *Client) session(ctx context.Context) (*session, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if s := c.sess; s != nil && (s.expiry.IsZero() || time.Now().Before(s.expiry)) {
		c.mu.Unlock()
		return s, nil
	}
	f := c.fetch
	if f == nil {
		fetchCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &tokenFetch{cancel: cancel, done: make(chan struct{})}
		c.fetch = f
		go c.runFetch(fetchCtx, f)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.sess, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("salesforce: %s: %w", opToken, ctx.Err())
	}
}

func (c *Client) runFetch(ctx context.Context, f *tokenFetch) {
	defer f.cancel()
	sess, err := c.fetchToken(ctx)
	c.mu.Lock()
	closed := c.closed
	switch {
	case closed:
		sess, err = nil, ErrClosed // Close cancelled the request, or came after it
	case err == nil:
		c.sess = sess
	}
	c.fetch = nil
	c.mu.Unlock()
	switch {
	case closed:
	case err != nil:
		c.logger.WarnContext(ctx, "salesforce: token request failed", errAttr(err))
	default:
		c.logger.DebugContext(ctx, "salesforce: got an access token")
	}
	f.sess, f.err = sess, err
	close(f.done)
}

// invalidate forgets sess if it is still the cached token, so that the next
// call gets a new one. Concurrent callers that saw the same stale token
// invalidate it once; a newer token is left alone.
func (c *Client) invalidate(sess *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == sess {
		c.sess = nil
	}
}

// fetchToken runs the client credentials flow through the Client's own
// http.Client (no redirects, Timeout) and checks the returned instance_url.
func (c *Client) fetchToken(ctx context.Context) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	ri := &requestInfo{op: opToken}
	ctx = withRequestInfo(ctx, ri)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.hc)

	tok, err := c.creds.Token(ctx)
	if err != nil {
		return nil, c.tokenError(ctx, err, ri)
	}

	base := c.instance
	if raw, _ := tok.Extra("instance_url").(string); raw != "" {
		u, err := ValidateInstanceURL(raw, c.allowLoop)
		if err != nil {
			return nil, &APIError{Op: opToken, StatusCode: ri.status,
				Message: "the token response names an instance_url that is not allowed: " + err.Error()}
		}
		base = u
	}
	return &session{accessToken: tok.AccessToken, base: base.String(), expiry: tok.Expiry}, nil
}

// tokenError turns an error of the oauth2 package into an *APIError or a
// network error. It never wraps *oauth2.RetrieveError, whose Error can print
// the response body, and scrubs the secret from what it keeps.
func (c *Client) tokenError(ctx context.Context, err error, ri *requestInfo) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := ri.status
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		var ae *APIError
		if re.ErrorCode != "" {
			ae = &APIError{Op: opToken, StatusCode: status, ErrorCode: re.ErrorCode, Message: re.ErrorDescription}
		} else {
			ae = parseAPIError(opToken, status, re.Body)
		}
		ae.Message = c.scrub(ae.Message, nil)
		return ae
	}
	var ue *url.Error
	if errors.As(err, &ue) || ri.bodyErr != nil || ctx.Err() != nil {
		if ri.bodyErr != nil {
			err = ri.bodyErr
		}
		return c.networkError(context.Background(), opToken, err)
	}
	// The oauth2 package could not use a 2xx answer (not JSON, no
	// access_token). Its messages quote no body.
	return &APIError{Op: opToken, StatusCode: ri.status, Message: "unusable token response: " + c.scrub(err.Error(), nil)}
}
