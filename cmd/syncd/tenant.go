package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/koeiq/syncd/settings"
)

// cmdTenant runs `syncd tenant set --id T [--name N] [--pack=true|false]
// [--analytics=true|false] [--timezone Asia/Tokyo] [--region JP]`: it
// creates the tenant or changes the given fields, leaving the others as
// they are.
func cmdTenant(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "set" {
		return fmt.Errorf("%w: syncd tenant set --id T [--name N] [--pack=true|false] [--analytics=true|false] [--timezone ZONE] [--region JP]", errUsage)
	}
	fs := newFlagSet(e, "tenant set")
	id := fs.String("id", "", "tenant ID (required)")
	name := fs.String("name", "", "display name")
	pack := fs.Bool("pack", false, "whether the tenant has the Audit & Export Pack")
	analytics := fs.Bool("analytics", true, "whether call.analysed (true) or call.transcribed (false) creates the CRM record")
	timezone := fs.String("timezone", "", "IANA time zone of the tenant, such as Asia/Tokyo (default UTC)")
	region := fs.String("region", "", "region of phone numbers written without a country code, such as JP (ISO 3166-1 alpha-2; \"\" unsets it)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *id == "" {
		return fmt.Errorf("%w: --id is required", errUsage)
	}
	var ch settings.TenantChange
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			ch.Name = name
		case "pack":
			ch.AuditExportPack = pack
		case "analytics":
			ch.AnalyticsEnabled = analytics
		case "timezone":
			ch.Timezone = timezone
		case "region":
			ch.DefaultRegion = region
		}
	})

	return withStore(ctx, e, func(store *settings.Store) error {
		t, err := store.SetTenant(ctx, *id, ch)
		if err != nil {
			return describe(err)
		}
		return printJSON(e.stdout, t)
	})
}

// cmdSettings runs `syncd settings salesforce ...` and `syncd settings
// kintone ...`. The secret (client secret, API token) is read from standard
// input, never from a flag, which ps would show; with nothing on standard
// input the stored one is kept.
func cmdSettings(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "salesforce" && args[0] != "kintone") {
		return fmt.Errorf("%w: syncd settings salesforce|kintone --tenant T ... (secret on standard input)", errUsage)
	}
	which := args[0]
	fs := newFlagSet(e, "settings "+which)
	tenant := fs.String("tenant", "", "tenant ID (required)")
	enabled := fs.Bool("enabled", false, "whether the integration pushes calls")
	var (
		instanceURL, clientID, objectType, extIDField, baseURL *string
		appID                                                  *int64
		match                                                  settings.SalesforceInput // the matching fields given
	)
	if which == "salesforce" {
		instanceURL = fs.String("instance-url", "", "the org's My Domain URL, such as https://acme.my.salesforce.com")
		clientID = fs.String("client-id", "", "the External Client App's Consumer Key")
		objectType = fs.String("object-type", "Task", "Task or a custom object API name such as Call_Recording__c")
		extIDField = fs.String("external-id-field", "", "custom field holding the call ID, for upserts")
		fs.Var(&optBool{&match.LinkWho}, "link-who", "link each call to the Contact or Lead with its customer_phone (WhoId); unset keeps the stored value")
		fs.Var(&optBool{&match.AssignOwner}, "assign-owner", "make the agent's active User the owner of records syncd creates; unset keeps the stored value")
		fs.Func("phone-fields", "comma-separated phone fields matched besides Phone and MobilePhone (Field__c, Contact.Field__c, Lead.Field__c); \"\" for none", func(s string) error {
			fields := []string{}
			for _, f := range strings.Split(s, ",") {
				if f = strings.TrimSpace(f); f != "" {
					fields = append(fields, f)
				}
			}
			match.PhoneFields = &fields
			return nil
		})
		fs.Func("who-field", "custom object: the lookup field that takes the Contact or Lead", func(s string) error { match.WhoField = &s; return nil })
		fs.Func("owner-field", "custom object: the lookup field that takes the owner", func(s string) error { match.OwnerField = &s; return nil })
	} else {
		baseURL = fs.String("base-url", "", "the Kintone address, such as https://example.cybozu.com")
		appID = fs.Int64("app-id", 0, "the app's number")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: --tenant is required", errUsage)
	}
	secret, err := readSecret(e, which)
	if err != nil {
		return err
	}

	return withStore(ctx, e, func(store *settings.Store) error {
		var saved any
		var err error
		if which == "salesforce" {
			saved, err = store.SaveSalesforce(ctx, *tenant, settings.SalesforceInput{
				Enabled: *enabled, InstanceURL: *instanceURL, ClientID: *clientID, ClientSecret: secret,
				ObjectType: *objectType, ExternalIDField: *extIDField,
				LinkWho: match.LinkWho, AssignOwner: match.AssignOwner, PhoneFields: match.PhoneFields,
				WhoField: match.WhoField, OwnerField: match.OwnerField,
			}, "cli")
		} else {
			saved, err = store.SaveKintone(ctx, *tenant, settings.KintoneInput{
				Enabled: *enabled, BaseURL: *baseURL, AppID: *appID, APIToken: secret,
			}, "cli")
		}
		if err != nil {
			return describe(err)
		}
		return printJSON(e.stdout, saved)
	})
}

// readSecret reads the secret from standard input: hidden, after a prompt,
// on a terminal; the first line otherwise. Empty means "keep the stored
// one".
func readSecret(e *env, which string) (*string, error) {
	what := "client secret"
	if which == "kintone" {
		what = "API token"
	}
	var line string
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "%s %s (empty keeps the stored one): ", which, what)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return nil, fmt.Errorf("read the %s: %w", what, err)
		}
		line = string(b)
	} else {
		var err error
		line, err = bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read the %s from standard input: %w", what, err)
		}
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, nil
	}
	return &line, nil
}

// withStore connects to the database and runs fn with the settings store.
func withStore(ctx context.Context, e *env, fn func(*settings.Store) error) error {
	cfg, _, pool, err := connect(ctx, e)
	if err != nil {
		return err
	}
	defer pool.Close()
	store, err := cfg.settingsStore(pool)
	if err != nil {
		return err
	}
	return fn(store)
}

// describe turns the settings package's errors into what an operator
// reads.
func describe(err error) error {
	var ve *settings.ValidationError
	var ce *settings.CheckError
	switch {
	case errors.As(err, &ve):
		flag := strings.ReplaceAll(ve.Field, "_", "-")
		if ve.Field == "default_region" {
			flag = "region"
		}
		return fmt.Errorf("--%s: %s", flag, ve.Message)
	case errors.As(err, &ce):
		return fmt.Errorf("check failed (%s): %s", ce.Reason, ce.Message)
	case errors.Is(err, settings.ErrNotFound):
		return errors.New("no such tenant; create it with `syncd tenant set --id ...`")
	}
	return err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// optBool is a boolean flag that is nil until it is given.
type optBool struct{ p **bool }

func (b *optBool) String() string {
	if b.p == nil || *b.p == nil {
		return ""
	}
	return strconv.FormatBool(**b.p)
}

func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*b.p = &v
	return nil
}

func (b *optBool) IsBoolFlag() bool { return true }
