package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/sensors"
	"github.com/tafweej/tafweej/store"
)

func newDevicesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "Register, list and revoke the NATS devices: gates, people counters, alert sources (ops key)",
		Long: `Every message on NATS comes from a registered device allowed to send exactly
that message. 'devices add' makes a device's NKey, writes its seed to a file
(mode 0600) that works as is with 'nats --nkey FILE' and nats.go
(nats.NkeyOptionFromSeed), and prints the device id, public key and inbox
prefix; the service keeps only the public key. See docs/devices.md for what
each kind of device may do.`,
	}
	cmd.AddCommand(newDevicesAddCmd(g), newDevicesListCmd(g), newDevicesRevokeCmd(g), newDevicesExportCmd(g))
	return cmd
}

// deviceAdded is what `devices add --json` prints: the API's answer with
// seed_file instead of the seed.
type deviceAdded struct {
	api.Device
	SeedFile string `json:"seed_file"`
}

func newDevicesAddCmd(g *globals) *cobra.Command {
	var name, out, ttl string
	cmd := &cobra.Command{
		Use:   "add gate|sensor|alerts TARGET",
		Short: "Register a device and write its NKey seed to a file (mode 0600)",
		Example: `  tafweej devices add gate visitor-centre --name "VC lane 1" --out vc1.nk   # a gate device
  tafweej devices add sensor siq-n1 --out siq-n1.nk                            # a people counter
  tafweej devices add alerts flood-ews --out ews.nk                            # an alert source
  nats --nkey vc1.nk --inbox-prefix _INBOX_dev_... request tafweej.petra.gate.visitor-centre.scan '{...}'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if out == "" {
				out = args[1] + ".nk"
			}
			// Refuse to overwrite before registering: a device whose seed
			// was not written is useless.
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return usagef("choose another file with --out, or remove the old one", "seed file %q: %v", out, err)
			}
			var d api.Device
			body := api.DeviceRequest{Kind: args[0], Target: args[1], Name: name, TTL: ttl}
			if err := c.do(cmd.Context(), "POST", "/v1/devices", body, &d); err != nil {
				f.Close()
				os.Remove(out)
				return err
			}
			_, werr := f.WriteString(d.Seed + "\n")
			if serr := f.Sync(); werr == nil {
				werr = serr
			}
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(out)
				// The device is of no use without its seed: take it back.
				_ = c.do(context.Background(), "DELETE", "/v1/devices/"+d.ID, nil, nil)
				return fmt.Errorf("write seed file %s: %w (device %s revoked)", out, werr, d.ID)
			}
			d.Seed = ""
			if g.json {
				return printJSON(cmd.OutOrStdout(), deviceAdded{Device: d, SeedFile: out})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Registered %s device %s for %s.\n", d.Kind, d.ID, d.Target)
			fmt.Fprintf(w, "  public key:   %s\n  inbox prefix: %s\n  seed file:    %s (mode 0600; install it on the device and delete this copy)\n",
				d.PublicKey, d.InboxPrefix, out)
			if d.ExpiresAt != nil {
				fmt.Fprintf(w, "  expires:      %s\n", d.ExpiresAt.Format(time.RFC3339))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "a label for the device")
	cmd.Flags().StringVar(&out, "out", "", "seed file to write (default TARGET.nk); must not exist")
	cmd.Flags().StringVar(&ttl, "ttl", "", "make a short-lived device that expires after this duration (e.g. 8h)")
	return cmd
}

func newDevicesListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the registered devices",
		Example: "  tafweej devices list\n  tafweej devices list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var l api.DeviceList
			if err := c.do(cmd.Context(), "GET", "/v1/devices", nil, &l); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), l)
			}
			rows := make([][]string, 0, len(l.Devices))
			now := time.Now()
			for _, d := range l.Devices {
				exp := "-"
				if d.ExpiresAt != nil {
					exp = d.ExpiresAt.Format("2006-01-02 15:04")
					if !now.Before(*d.ExpiresAt) {
						exp += " (expired)"
					}
				}
				rows = append(rows, []string{d.ID, d.Kind, d.Target, d.Name, d.PublicKey, d.CreatedAt.Format("2006-01-02 15:04"), exp})
			}
			table(cmd.OutOrStdout(), "ID\tKIND\tTARGET\tNAME\tPUBLIC KEY\tCREATED\tEXPIRES", rows)
			return nil
		},
	}
}

func newDevicesRevokeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke a device: its connections are closed and it cannot connect again",
		Example: "  tafweej devices revoke dev_k3j5r2a7xq4m6n8p",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), "DELETE", "/v1/devices/"+args[0], nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Revoked %s.\n", args[0])
			return nil
		},
	}
}

// deviceConn is a NATS connection of a short-lived device that the
// project's own tools (scan, simulate) register with the ops key, so that
// nobody hands seeds around; Close revokes it.
type deviceConn struct {
	*nats.Conn
	id string
	c  *client
}

// deviceTTL bounds a tool's device if the tool dies before revoking it.
const deviceTTL = "12h"

// connectDevice registers a short-lived device of kind for target and
// connects to natsURL with it.
func connectDevice(ctx context.Context, c *client, natsURL, kind, target, name string, opts ...nats.Option) (*deviceConn, error) {
	var d api.Device
	if err := c.do(ctx, "POST", "/v1/devices", api.DeviceRequest{Kind: kind, Target: target, Name: name, TTL: deviceTTL}, &d); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == 401 || errors.As(err, &ae) && ae.Status == 403 {
			return nil, fmt.Errorf("register a %s device for %q: %w\n  hint: the tools obtain their NATS credentials with the ops key (--key, TAFWEEJ_KEY or ./data/ops.key); a device with its own seed uses --nkey", kind, target, err)
		}
		return nil, fmt.Errorf("register a %s device for %q: %w", kind, target, err)
	}
	devOpts, err := sensors.DeviceOptions([]byte(d.Seed), d.InboxPrefix)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(natsURL, append(append(devOpts, nats.Timeout(5*time.Second)), opts...)...)
	if err != nil {
		_ = c.do(context.Background(), "DELETE", "/v1/devices/"+d.ID, nil, nil)
		return nil, fmt.Errorf("connect to NATS at %s as device %s: %w\n  hint: 'tafweej serve' starts an embedded server on 127.0.0.1:4222; pass --nats otherwise", natsURL, d.ID, err)
	}
	return &deviceConn{Conn: nc, id: d.ID, c: c}, nil
}

// Close closes the connection and revokes the device.
func (d *deviceConn) Close() {
	d.Conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.c.do(ctx, "DELETE", "/v1/devices/"+d.id, nil, nil)
}

// natsCloser is a NATS connection to close when done (a device's also
// revokes it).
type natsCloser interface {
	RequestWithContext(ctx context.Context, subj string, data []byte) (*nats.Msg, error)
	LastError() error
	Close()
}

// scanConn connects the scan command as a gate device: a registered one
// from its seed file, or a short-lived one registered with the ops key.
func scanConn(ctx context.Context, g *globals, natsURL, gate, nkeyFile, inboxPrefix string) (natsCloser, error) {
	if nkeyFile != "" {
		if inboxPrefix == "" {
			return nil, usagef("the id printed by 'tafweej devices add' gives it: _INBOX_<id>", "--nkey needs --inbox-prefix: a device may receive replies only under its own prefix")
		}
		nk, err := nats.NkeyOptionFromSeed(nkeyFile)
		if err != nil {
			return nil, usagef("pass the seed file written by 'tafweej devices add'", "--nkey %q: %v", nkeyFile, err)
		}
		nc, err := nats.Connect(natsURL, nk, nats.CustomInboxPrefix(inboxPrefix), nats.Name("tafweej-scan"), nats.Timeout(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("connect to NATS at %s: %w\n  hint: 'tafweej serve' starts an embedded server on 127.0.0.1:4222; pass --nats otherwise", natsURL, err)
		}
		return nc, nil
	}
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	return connectDevice(ctx, c, natsURL, "gate", gate, "tafweej scan (short-lived)", nats.Name("tafweej-scan"))
}

func newDevicesExportCmd(g *globals) *cobra.Command {
	var config, user, passwordEnv, nkey string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print the authorization block of an external nats-server: the devices with their permissions",
		Long: `With an external NATS server or cluster (serve --nats URL), the server itself must
enforce each device's permissions. 'devices export' prints an authorization block
for nats-server.conf giving every registered device exactly the permissions the
embedded server gives it, and the service full access as --service-user (its
password read by nats-server from an environment variable, never printed) or
--service-nkey. Generate it again and reload the server (nats-server --signal
reload) after adding or revoking a device.`,
		Example: `  tafweej devices export --service-user tafweej > devices.conf    # nats-server.conf: include ./devices.conf
  tafweej devices export --service-nkey UCX...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (user == "") == (nkey == "") {
				return usagef("e.g. --service-user tafweej (the user 'serve --nats-user' connects as)", "give one of --service-user and --service-nkey")
			}
			cfg, err := loadConfig(config)
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var l api.DeviceList
			if err := c.do(cmd.Context(), "GET", "/v1/devices", nil, &l); err != nil {
				return err
			}
			devs := make([]store.Device, 0, len(l.Devices))
			for _, d := range l.Devices {
				devs = append(devs, store.Device{ID: d.ID, Kind: d.Kind, Target: d.Target, Name: d.Name, PublicKey: d.PublicKey, CreatedAt: d.CreatedAt, ExpiresAt: d.ExpiresAt})
			}
			block, err := sensors.ExportAuthorization(cfg.Site, cfg, devs, sensors.ExportOptions{User: user, PasswordEnv: passwordEnv, NKey: nkey}, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), block)
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "configs/petra.yaml", "site configuration file (the sensors' zones)")
	cmd.Flags().StringVar(&user, "service-user", "", "the user the service connects as (serve --nats-user)")
	cmd.Flags().StringVar(&passwordEnv, "service-password-env", "TAFWEEJ_NATS_PASSWORD", "the environment variable nats-server reads the service's password from")
	cmd.Flags().StringVar(&nkey, "service-nkey", "", "the service's NKey public key, instead of a user")
	return cmd
}
