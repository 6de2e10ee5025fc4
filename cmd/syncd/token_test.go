package main

import (
	"context"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/koeiq/syncd/admin"
)

// admin-token puts SYNCD_ADMIN_JWT_ISSUER and SYNCD_ADMIN_JWT_AUDIENCE into
// the token unless --issuer or --audience say otherwise.
func TestAdminTokenIssuerAndAudience(t *testing.T) {
	t.Parallel()
	const secret = "a-jwt-secret-for-the-admin-api-tests"
	withEnv := map[string]string{"SYNCD_ADMIN_JWT_SECRET": secret,
		"SYNCD_ADMIN_JWT_ISSUER": "https://id.koeiq.example", "SYNCD_ADMIN_JWT_AUDIENCE": "syncd"}
	without := map[string]string{"SYNCD_ADMIN_JWT_SECRET": secret}
	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		wantIss string
		wantAud []string
	}{
		{"from the environment", withEnv, nil, "https://id.koeiq.example", []string{"syncd"}},
		{"flags win", withEnv, []string{"--issuer", "dev", "--audience", "other"}, "dev", []string{"other"}},
		{"flags empty: none", withEnv, []string{"--issuer=", "--audience="}, "", nil},
		{"nothing set: none", without, nil, "", nil},
		{"flags without the environment", without, []string{"--issuer", "dev", "--audience", "syncd"}, "dev", []string{"syncd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := syncd(t, context.Background(), tt.environ, "", append([]string{"admin-token", "--tenant", "t1"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("admin-token: %+v", r)
			}
			claims := &admin.Claims{}
			if _, err := jwt.ParseWithClaims(strings.TrimSpace(r.stdout), claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
				jwt.WithValidMethods([]string{"HS256"})); err != nil {
				t.Fatal(err)
			}
			if claims.Issuer != tt.wantIss || strings.Join(claims.Audience, ",") != strings.Join(tt.wantAud, ",") || claims.TenantID != "t1" {
				t.Errorf("iss %q, aud %q, tenant %q; want iss %q, aud %q", claims.Issuer, claims.Audience, claims.TenantID, tt.wantIss, tt.wantAud)
			}
		})
	}
}
