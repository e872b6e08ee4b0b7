package sensors

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// ExportOptions name the service's own user in ExportAuthorization: either
// User, whose password the server reads from the environment variable
// PasswordEnv (so that no secret is printed), or the public key NKey.
type ExportOptions struct {
	User        string
	PasswordEnv string // default TAFWEEJ_NATS_PASSWORD
	NKey        string
}

// ExportAuthorization prints the authorization block of an external
// nats-server (its configuration file, or an included file) that gives
// every registered device exactly the permissions the embedded server
// gives it (DevicePermissions), and the service full access. Expired
// devices are left out; a device whose target the configuration no longer
// has is left out with a comment. Run it again and reload the server
// (nats-server --signal reload) after adding or revoking a device.
func ExportAuthorization(site string, cfg *scheduler.Config, devs []store.Device, o ExportOptions, now time.Time) (string, error) {
	if (o.User == "") == (o.NKey == "") {
		return "", fmt.Errorf("export: name the service's own user with a user name or an NKey public key (one of them)")
	}
	if o.PasswordEnv == "" {
		o.PasswordEnv = "TAFWEEJ_NATS_PASSWORD"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# NATS authorization for tafweej site %q, generated %s.\n", site, now.UTC().Format(time.RFC3339))
	b.WriteString("# Include it in nats-server.conf; after adding or revoking a device, generate it again and\n# reload the server (nats-server --signal reload).\n")
	b.WriteString("authorization {\n  users = [\n")
	b.WriteString("    # the tafweej service itself: publishes and subscribes anywhere\n")
	if o.User != "" {
		fmt.Fprintf(&b, "    { user: %s, password: $%s }\n", strconv.Quote(o.User), o.PasswordEnv)
	} else {
		fmt.Fprintf(&b, "    { nkey: %s }\n", strconv.Quote(o.NKey))
	}
	for _, d := range devs {
		if d.Expired(now) {
			continue
		}
		p, err := DevicePermissions(site, cfg, d)
		if err != nil {
			fmt.Fprintf(&b, "    # left out: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
			continue
		}
		fmt.Fprintf(&b, "    # %s: %s %s", d.ID, d.Kind, d.Target)
		if d.Name != "" {
			fmt.Fprintf(&b, " (%s)", strings.ReplaceAll(d.Name, "\n", " "))
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "    { nkey: %s, permissions: { publish: { allow: %s, deny: %s }, subscribe: { allow: %s, deny: %s } } }\n",
			strconv.Quote(d.PublicKey), list(p.Publish.Allow), list(p.Publish.Deny), list(p.Subscribe.Allow), list(p.Subscribe.Deny))
	}
	b.WriteString("  ]\n}\n")
	return b.String(), nil
}

func list(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
