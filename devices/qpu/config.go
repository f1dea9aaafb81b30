package qpu

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Environment variables read by FromEnv. Credentials are taken from the
// environment or from a token file only, never from flags or code.
const (
	EnvURL        = "MEC_QPU_URL"        // service root; requests go to URL/api/v1/jobs... (required)
	EnvKind       = "MEC_QPU_KIND"       // "mec" (default) or "ibm"
	EnvToken      = "MEC_QPU_TOKEN"      // bearer token (mec), or a ready IAM access token (ibm)
	EnvTokenFile  = "MEC_QPU_TOKEN_FILE" // file holding the token; must not be readable by group or others
	EnvAPIKey     = "MEC_QPU_API_KEY"    // IBM Cloud API key, exchanged for IAM access tokens (ibm)
	EnvAPIKeyFile = "MEC_QPU_API_KEY_FILE"
	EnvInstance   = "MEC_QPU_INSTANCE" // IBM service instance CRN, sent as Service-CRN (ibm)
	EnvIAMURL     = "MEC_QPU_IAM_URL"  // IAM token endpoint (ibm)
	EnvDevice     = "MEC_QPU_DEVICE"   // device name sent as "backend" (ibm: required)
	EnvBasis      = "MEC_QPU_BASIS"    // comma-separated basis, e.g. "rz,sx,x,cx" or "rz,sx,x,ecr"
	EnvCoupling   = "MEC_QPU_COUPLING" // coupling map edges "0-1,1-2,..." (A>B: native in that direction only); empty: all-to-all
	EnvAPIVersion = "MEC_QPU_API_VERSION"
	EnvCAFile     = "MEC_QPU_CA_FILE" // PEM certificates to trust for an https endpoint (e.g. `mec serve qpu`'s own)
)

// Kinds of endpoint.
const (
	KindMec = "mec"
	KindIBM = "ibm"
)

// DefaultIAMURL is IBM Cloud's IAM token endpoint.
const DefaultIAMURL = "https://iam.cloud.ibm.com/identity/token"

// DefaultIBMAPIVersion is the IBM-API-Version header sent to IBM endpoints
// when MEC_QPU_API_VERSION is unset.
const DefaultIBMAPIVersion = "2025-05-01"

// Config configures a Client and the qpu backend.
type Config struct {
	URL  string
	Kind string
	// Token is a bearer token (mec), or an IAM access token (ibm) used as is.
	Token string
	// APIKey is an IBM Cloud API key exchanged at IAMURL for access tokens.
	APIKey   string
	IAMURL   string
	Instance string
	// Device names the target device ("backend" in the job request).
	Device     string
	APIVersion string
	// Target is the basis and coupling map circuits are transpiled to; a
	// nil Target sends circuits as they are (mec endpoints accept any).
	Target *Target
	// CAFile names PEM certificates to trust for an https:// URL, in
	// addition to the system's (a self-signed `mec serve qpu --tls-cert`).
	CAFile string
	// Timeout bounds each HTTP request (default 30 s); PollInterval is the
	// first wait between status polls (default 50 ms, doubling to 2 s).
	Timeout      time.Duration
	PollInterval time.Duration
	// Retries is the number of retries of a request on 429, 5xx and network
	// errors (default 4; negative: none). Backoff is the first wait, doubled
	// each retry up to MaxBackoff, with full jitter.
	Retries    int
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// String describes the configuration without any credential.
func (c Config) String() string {
	return fmt.Sprintf("qpu %s endpoint %s device %q", c.Kind, c.URL, c.Device)
}

// GoString is String, so %#v cannot print credentials either.
func (c Config) GoString() string { return c.String() }

// FromEnv reads the configuration from the environment. It returns an error
// wrapping ErrNotConfigured when MEC_QPU_URL is unset.
func FromEnv() (Config, error) {
	c := Config{
		URL:        strings.TrimRight(os.Getenv(EnvURL), "/"),
		Kind:       strings.ToLower(os.Getenv(EnvKind)),
		Token:      os.Getenv(EnvToken),
		APIKey:     os.Getenv(EnvAPIKey),
		IAMURL:     os.Getenv(EnvIAMURL),
		Instance:   os.Getenv(EnvInstance),
		Device:     os.Getenv(EnvDevice),
		APIVersion: os.Getenv(EnvAPIVersion),
		CAFile:     os.Getenv(EnvCAFile),
	}
	if c.URL == "" {
		return c, fmt.Errorf("%w: set %s (and %s=ibm|mec, %s or %s)", ErrNotConfigured, EnvURL, EnvKind, EnvToken, EnvTokenFile)
	}
	if shown, why := urlProblem(c.URL); why != "" {
		return c, fmt.Errorf("%w: %s=%s %s", ErrBadURL, EnvURL, shown, why)
	}
	if c.Kind == "" {
		c.Kind = KindMec
	}
	if c.Kind != KindMec && c.Kind != KindIBM {
		return c, fmt.Errorf("qpu: %s=%q: want %q or %q", EnvKind, c.Kind, KindMec, KindIBM)
	}
	if c.Token == "" {
		if f := os.Getenv(EnvTokenFile); f != "" {
			t, err := ReadTokenFile(f)
			if err != nil {
				return c, err
			}
			c.Token = t
		}
	}
	if c.APIKey == "" {
		if f := os.Getenv(EnvAPIKeyFile); f != "" {
			t, err := ReadTokenFile(f)
			if err != nil {
				return c, err
			}
			c.APIKey = t
		}
	}
	if c.Kind == KindIBM {
		if c.Token == "" && c.APIKey == "" {
			return c, fmt.Errorf("%w: %s=ibm needs %s or %s (or a token)", ErrNotConfigured, EnvKind, EnvAPIKey, EnvAPIKeyFile)
		}
		if c.Instance == "" {
			return c, fmt.Errorf("%w: %s=ibm needs %s (the service instance CRN)", ErrNotConfigured, EnvKind, EnvInstance)
		}
		if c.Device == "" {
			return c, fmt.Errorf("%w: %s=ibm needs %s (the device name)", ErrNotConfigured, EnvKind, EnvDevice)
		}
		if c.IAMURL == "" {
			c.IAMURL = DefaultIAMURL
		}
		if c.APIVersion == "" {
			c.APIVersion = DefaultIBMAPIVersion
		}
		t := DefaultIBMTarget()
		c.Target = &t
	}
	if b := os.Getenv(EnvBasis); b != "" || os.Getenv(EnvCoupling) != "" {
		t, err := ParseTarget(b, os.Getenv(EnvCoupling))
		if err != nil {
			return c, err
		}
		c.Target = &t
	}
	return c, nil
}

// ReadTokenFile reads a credential from a file that only its owner can read
// (no group or other permission bits); it refuses any other file. The
// content is trimmed of surrounding white space and never echoed in errors.
func ReadTokenFile(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("qpu: token file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("qpu: token file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("qpu: token file %s has permissions %#o; refusing it: make it readable by its owner only (chmod 600)", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("qpu: token file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("qpu: token file %s is empty", path)
	}
	return t, nil
}

// ErrBadURL is matched (errors.Is) by the error for an endpoint URL that
// is not an absolute http:// or https:// URL with a host.
var ErrBadURL = errors.New("qpu: the endpoint URL must be http:// or https://")

// CheckURL checks that u is an absolute http:// or https:// URL with a
// host and no query or fragment (requests go to u + "/api/v1/jobs..."). The
// error never shows a password in u.
func CheckURL(u string) error {
	if shown, why := urlProblem(u); why != "" {
		return fmt.Errorf("%w: %s %s", ErrBadURL, shown, why)
	}
	return nil
}

// urlProblem returns u as it may be shown and what is wrong with it ("" if
// nothing is).
func urlProblem(u string) (shown, why string) {
	p, err := url.Parse(u)
	if err != nil {
		return redactURL(u), "does not parse"
	}
	shown = p.Redacted()
	switch {
	case p.Scheme == "":
		return shown, "has no scheme"
	case p.Scheme != "http" && p.Scheme != "https":
		return shown, fmt.Sprintf("has scheme %q", p.Scheme)
	case p.Hostname() == "":
		return shown, "has no host"
	case p.RawQuery != "" || p.Fragment != "":
		return shown, "has a query or fragment"
	}
	return shown, ""
}

// redactURL hides anything between "//" and "@" of an unparsable URL.
func redactURL(u string) string {
	if i := strings.Index(u, "//"); i >= 0 {
		if j := strings.LastIndex(u[i+2:], "@"); j >= 0 {
			return u[:i+2] + "[redacted]@" + u[i+2+j+1:]
		}
	}
	return u
}
