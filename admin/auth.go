package admin

import (
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
	parser *jwt.Parser
}

func newAuthenticator(secret []byte, skew time.Duration) *authenticator {
	return &authenticator{
		secret: secret,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), // never "none", never RS256 with our secret
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(skew),
		),
	}
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
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, errors.New("the token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, errors.New("the token is not valid yet")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, errors.New("the token has no expiry (exp)")
	case err != nil:
		return nil, errors.New("the token is invalid")
	}
	if claims.TenantID == "" || claims.Subject == "" {
		return nil, errors.New("the token lacks tenant_id or sub")
	}
	return claims, nil
}

// MintToken signs an HS256 token for the admin API, valid for ttl. It is
// for development and tests (`syncd admin-token`); in production KoeIQ's
// identity service issues the tokens.
func MintToken(secret []byte, tenantID, role, subject string, ttl time.Duration) (string, error) {
	if len(secret) < MinSecretLength {
		return "", errors.New("admin: the JWT secret must be at least 32 bytes")
	}
	now := time.Now()
	claims := &Claims{
		TenantID: tenantID,
		Role:     role,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}
