package admin

import (
	"cmp"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// RoleAdmin is the role that may configure the integration.
const RoleAdmin = "admin"

// Claims are the claims of an admin API token.
type Claims struct {
	// TenantID is the tenant whose settings the bearer may see and change.
	TenantID string `json:"tenant_id"`
	// Role must be "admin" to use the API.
	Role string `json:"role"`
	// RegisteredClaims carries sub (who, recorded as updated_by), exp
	// (required), nbf and iat.
	jwt.RegisteredClaims
}

// authenticator checks bearer tokens.
type authenticator struct {
	secret []byte
	issuer string // "": iss is not checked
	parser *jwt.Parser
}

// newAuthenticator checks tokens signed with cfg.JWTSecret and, when they
// are set, carrying cfg.JWTIssuer and cfg.JWTAudience.
func newAuthenticator(cfg *Config) *authenticator {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), // never "none", never RS256 with our secret
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.ClockSkew),
	}
	if cfg.JWTIssuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.JWTIssuer)) // and iss is required
	}
	if cfg.JWTAudience != "" {
		opts = append(opts, jwt.WithAudience(cfg.JWTAudience)) // a string, or an array holding it; required
	}
	return &authenticator{secret: cfg.JWTSecret, issuer: cfg.JWTIssuer, parser: jwt.NewParser(opts...)}
}

// authenticate returns the request's verified claims. Its errors are fit
// to show the caller; they never quote the token.
func (a *authenticator) authenticate(r *http.Request) (*Claims, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return nil, errors.New("an Authorization: Bearer token is required")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, errors.New("the Authorization header must be Bearer <token>")
	}
	claims := &Claims{}
	_, err := a.parser.ParseWithClaims(strings.TrimSpace(token), claims, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodHS256 {
			return nil, errors.New("unexpected signing method")
		}
		return a.secret, nil
	})
	// The signature is verified before the claims, so a claims error
	// describes a token we issued and may say what was wrong with it.
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, errors.New("the token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, errors.New("the token is not valid yet")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, errors.New("the token is from another issuer (iss)")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, errors.New("the token is meant for another audience (aud)")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		switch {
		case claims.ExpiresAt == nil:
			return nil, errors.New("the token has no expiry (exp)")
		case a.issuer != "" && claims.Issuer == "":
			return nil, errors.New("the token has no issuer (iss)")
		default:
			return nil, errors.New("the token has no audience (aud)")
		}
	case err != nil:
		return nil, errors.New("the token is invalid")
	}
	if claims.TenantID == "" || claims.Subject == "" {
		return nil, errors.New("the token lacks tenant_id or sub")
	}
	return claims, nil
}

// Token describes an admin API token to mint with [Token.Sign]. It is for
// development and tests (`syncd admin-token`); in production KoeIQ's
// identity service issues the tokens.
type Token struct {
	// TenantID is the tenant_id claim. Required.
	TenantID string
	// Role is the role claim; only [RoleAdmin] may use the API. Defaults to
	// none.
	Role string
	// Subject is the sub claim, recorded as updated_by. Required.
	Subject string
	// Issuer is the iss claim: the Config.JWTIssuer of the syncd that reads
	// the token. Defaults to none.
	Issuer string
	// Audience is the aud claim: the Config.JWTAudience of the syncd that
	// reads the token. Defaults to none.
	Audience string
	// TTL is how long the token is valid. Defaults to one hour.
	TTL time.Duration
}

// Sign returns the token signed HS256 with secret.
func (t *Token) Sign(secret []byte) (string, error) {
	if len(secret) < MinSecretLength {
		return "", errors.New("admin: the JWT secret must be at least 32 bytes")
	}
	now := time.Now()
	claims := &Claims{
		TenantID: t.TenantID,
		Role:     t.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.Issuer,
			Subject:   t.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(cmp.Or(t.TTL, time.Hour))),
		},
	}
	if t.Audience != "" {
		claims.Audience = jwt.ClaimStrings{t.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// MintToken signs an HS256 token for the admin API, valid for ttl, without
// iss or aud: [Token.Sign] with the other fields empty.
func MintToken(secret []byte, tenantID, role, subject string, ttl time.Duration) (string, error) {
	return (&Token{TenantID: tenantID, Role: role, Subject: subject, TTL: ttl}).Sign(secret)
}
