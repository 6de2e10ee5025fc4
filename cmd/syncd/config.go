package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lmittmann/tint"

	"github.com/koeiq/syncd/admin"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/migrate"
	"github.com/koeiq/syncd/ops"
	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// config is what syncd reads from the environment.
type config struct {
	databaseURL      string
	schema           string
	logLevel         slog.Level
	logFormat        string
	secretKey        string        // SYNCD_SECRET_KEY, base64
	previousKey      *secrets.Key  // SYNCD_SECRET_KEY_PREVIOUS; nil when unset
	insecureURLs     bool          // SYNCD_INSECURE_INSTANCE_URLS=1
	listen           string        // SYNCD_LISTEN: the admin API
	jwtSecret        string        // SYNCD_ADMIN_JWT_SECRET
	jwtIssuer        string        // SYNCD_ADMIN_JWT_ISSUER: iss admin tokens must carry
	jwtAudience      string        // SYNCD_ADMIN_JWT_AUDIENCE: aud admin tokens must carry
	opsListen        string        // SYNCD_OPS_LISTEN: River UI, metrics, health
	opsUser          string        // SYNCD_OPS_USER
	opsPassword      string        // SYNCD_OPS_PASSWORD
	opsAllowedHosts  []string      // SYNCD_OPS_ALLOWED_HOSTS
	retention        time.Duration // SYNCD_OUTBOX_RETENTION
	skippedRetention time.Duration // SYNCD_SKIPPED_RETENTION
	push             jobs.Config   // SYNCD_BATCH_SIZE, SYNCD_PUSH_TIMEOUT, ...
}

func loadConfig(e *env) (*config, error) {
	c := &config{
		databaseURL: e.getenv("DATABASE_URL"),
		schema:      cmp.Or(e.getenv("SYNCD_SCHEMA"), migrate.DefaultSchema),
		logFormat:   strings.ToLower(e.getenv("LOG_FORMAT")),
		secretKey:   e.getenv("SYNCD_SECRET_KEY"),
		listen:      cmp.Or(e.getenv("SYNCD_LISTEN"), ":8080"),
		jwtSecret:   e.getenv("SYNCD_ADMIN_JWT_SECRET"),
		jwtIssuer:   e.getenv("SYNCD_ADMIN_JWT_ISSUER"),
		jwtAudience: e.getenv("SYNCD_ADMIN_JWT_AUDIENCE"),
	}
	c.opsListen = cmp.Or(e.getenv("SYNCD_OPS_LISTEN"), "127.0.0.1:9090")
	c.opsUser, c.opsPassword = e.getenv("SYNCD_OPS_USER"), e.getenv("SYNCD_OPS_PASSWORD")
	if (c.opsUser == "") != (c.opsPassword == "") {
		return nil, errors.New("SYNCD_OPS_USER and SYNCD_OPS_PASSWORD: set both or neither")
	}
	if c.opsUser == "" && !isLoopback(c.opsListen) {
		return nil, fmt.Errorf("SYNCD_OPS_LISTEN %q is not a loopback address: set SYNCD_OPS_USER and SYNCD_OPS_PASSWORD to serve the River UI and metrics beyond this host", c.opsListen)
	}
	if v := e.getenv("SYNCD_OPS_ALLOWED_HOSTS"); v != "" {
		for _, h := range strings.Split(v, ",") {
			if err := ops.ValidateHost(h); err != nil {
				return nil, fmt.Errorf("SYNCD_OPS_ALLOWED_HOSTS: %v (hosts or host:port, comma-separated, such as ops.example.com,10.0.0.7:9090)", err)
			}
			c.opsAllowedHosts = append(c.opsAllowedHosts, strings.TrimSpace(h))
		}
	}
	if v := e.getenv("SYNCD_OUTBOX_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour {
			return nil, fmt.Errorf("SYNCD_OUTBOX_RETENTION %q: use a duration of at least 1h, such as 720h", v)
		}
		c.retention = d
	}
	if v := e.getenv("SYNCD_SKIPPED_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < max(c.retention, 30*24*time.Hour) {
			return nil, fmt.Errorf("SYNCD_SKIPPED_RETENTION %q: use a duration of at least SYNCD_OUTBOX_RETENTION and 720h, such as 8760h", v)
		}
		c.skippedRetention = d
	}
	if err := c.loadPushConfig(e); err != nil {
		return nil, err
	}
	if err := c.loadPreviousKey(e); err != nil {
		return nil, err
	}
	if c.jwtSecret != "" && len(c.jwtSecret) < admin.MinSecretLength {
		return nil, fmt.Errorf("SYNCD_ADMIN_JWT_SECRET must be at least %d bytes", admin.MinSecretLength)
	}
	switch v := e.getenv("SYNCD_INSECURE_INSTANCE_URLS"); v {
	case "", "0", "false":
	case "1", "true":
		c.insecureURLs = true
	default:
		return nil, fmt.Errorf("SYNCD_INSECURE_INSTANCE_URLS %q: use 1 or 0", v)
	}
	if err := migrate.ValidateSchema(c.schema); err != nil {
		return nil, fmt.Errorf("SYNCD_SCHEMA: %w", err)
	}
	if lvl := e.getenv("LOG_LEVEL"); lvl != "" {
		if err := c.logLevel.UnmarshalText([]byte(lvl)); err != nil {
			return nil, fmt.Errorf("LOG_LEVEL %q: use debug, info, warn or error", lvl)
		}
	}
	switch c.logFormat {
	case "":
		c.logFormat = "json"
		if isTerminal(e.stderr) {
			c.logFormat = "text"
		}
	case "text", "json":
	default:
		return nil, fmt.Errorf("LOG_FORMAT %q: use text or json", c.logFormat)
	}
	return c, nil
}

// logger returns the slog logger: tint for text, JSON otherwise.
func (c *config) logger(w io.Writer) *slog.Logger {
	if c.logFormat == "text" {
		return slog.New(tint.NewHandler(w, &tint.Options{
			Level:      c.logLevel,
			TimeFormat: time.TimeOnly,
			NoColor:    !isTerminal(w),
		}))
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: c.logLevel}))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// openPool connects to DATABASE_URL (libpq defaults when empty) with syncd's
// schema as search_path, and checks that the server answers.
func (c *config) openPool(ctx context.Context) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(c.databaseURL)
	if err != nil {
		// pgx quotes the connection string in some parse errors; never show it.
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	if !strings.Contains(c.databaseURL, "pool_max_conns") {
		// Pushes wait on the CRM, not on PostgreSQL, but many run at once.
		pcfg.MaxConns = 20
	}
	pcfg.ConnConfig.RuntimeParams["search_path"] = c.schema
	pcfg.ConnConfig.RuntimeParams["application_name"] = "syncd"
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database (host %s, database %s): %w", pcfg.ConnConfig.Host, pcfg.ConnConfig.Database, err)
	}
	return pool, nil
}

// settingsStore returns the store of tenants and CRM settings, sealing
// secrets under SYNCD_SECRET_KEY; saving a tenant's settings resumes its
// waiting pushes (jobs.ResumePushes).
func (c *config) settingsStore(pool *pgxpool.Pool) (*settings.Store, error) {
	key, err := secrets.ParseKey(c.secretKey)
	if err != nil {
		return nil, fmt.Errorf("SYNCD_SECRET_KEY: %w", err)
	}
	resume, err := jobs.ResumePushes(c.schema)
	if err != nil {
		return nil, err
	}
	scfg := &settings.Config{Key: key, AllowInsecureURLs: c.insecureURLs, AfterSave: resume}
	if c.previousKey != nil {
		scfg.PreviousKeys = []*secrets.Key{c.previousKey}
	}
	return settings.NewStore(pool, scfg)
}

// loadPreviousKey reads SYNCD_SECRET_KEY_PREVIOUS, the key SYNCD_SECRET_KEY
// replaces: it must be a key, and another one than SYNCD_SECRET_KEY.
// Errors never quote either key.
func (c *config) loadPreviousKey(e *env) error {
	v := e.getenv("SYNCD_SECRET_KEY_PREVIOUS")
	if strings.TrimSpace(v) == "" {
		return nil
	}
	previous, err := secrets.ParseKey(v)
	if err != nil {
		return fmt.Errorf("SYNCD_SECRET_KEY_PREVIOUS: %w", err)
	}
	current, err := secrets.ParseKey(c.secretKey)
	if err != nil {
		return fmt.Errorf("SYNCD_SECRET_KEY (SYNCD_SECRET_KEY_PREVIOUS is set): %w", err)
	}
	if _, err := secrets.NewKeyring(current, previous); err != nil {
		return errors.New("SYNCD_SECRET_KEY_PREVIOUS is SYNCD_SECRET_KEY itself: set it to the key being replaced, or unset it")
	}
	c.previousKey = previous
	return nil
}

// isLoopback reports whether addr (host:port) listens only on this host.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadPushConfig reads the tuning of pushes; unset variables keep the
// defaults of jobs.Config.
func (c *config) loadPushConfig(e *env) error {
	// duration parses a Go duration that must be positive into d.
	duration := func(d *time.Duration) func(string) error {
		return func(s string) error {
			v, err := time.ParseDuration(s)
			if err == nil && v <= 0 {
				err = errors.New("must be positive")
			}
			*d = v
			return err
		}
	}
	for _, v := range []struct {
		name  string
		parse func(string) error
	}{
		{"SYNCD_BATCH_SIZE", func(s string) (err error) { c.push.BatchSize, err = strconv.Atoi(s); return err }},
		{"SYNCD_TENANT_CONCURRENCY", func(s string) (err error) { c.push.TenantConcurrency, err = strconv.Atoi(s); return err }},
		{"SYNCD_API_BUDGET_SLOW", func(s string) (err error) { c.push.BudgetSlowShare, err = strconv.ParseFloat(s, 64); return err }},
		{"SYNCD_API_BUDGET_HOLD", func(s string) (err error) { c.push.BudgetHoldShare, err = strconv.ParseFloat(s, 64); return err }},
		{"SYNCD_PUSH_TIMEOUT", duration(&c.push.PushTimeout)},
		{"SYNCD_REQUEST_TIMEOUT", duration(&c.push.RequestTimeout)},
		{"SYNCD_IN_DOUBT_WAIT", duration(&c.push.InDoubtWait)},
	} {
		if s := e.getenv(v.name); s != "" {
			if err := v.parse(s); err != nil {
				return fmt.Errorf("%s %q: %v", v.name, s, err)
			}
		}
	}
	return nil
}

// connect reads the configuration, makes the logger and opens the pool: what
// every command that works on the database starts with. The caller closes
// the pool.
func connect(ctx context.Context, e *env) (*config, *slog.Logger, *pgxpool.Pool, error) {
	cfg, err := loadConfig(e)
	if err != nil {
		return nil, nil, nil, err
	}
	logger := cfg.logger(e.stderr)
	pool, err := cfg.openPool(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, logger, pool, nil
}

// connectScratch is connect for the commands that work in a scratch schema
// of their own (demo, bench): schema, from their --schema flag, must be a
// valid name (a usage error otherwise) and becomes the configuration's
// schema, and unless LOG_LEVEL says otherwise the log shows only what is at
// level or above. The caller closes the pool.
func connectScratch(ctx context.Context, e *env, schema string, level slog.Level) (*config, *pgxpool.Pool, error) {
	if err := migrate.ValidateSchema(schema); err != nil {
		return nil, nil, fmt.Errorf("%w: --schema: %v", errUsage, err)
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return nil, nil, err
	}
	cfg.schema = schema
	if e.getenv("LOG_LEVEL") == "" {
		cfg.logLevel = level
	}
	pool, err := cfg.openPool(ctx)
	if err != nil {
		return nil, nil, err
	}
	return cfg, pool, nil
}
