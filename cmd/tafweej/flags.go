package main

import (
	"net/url"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// envValue is a string flag whose default comes from an environment
// variable. Its String, which pflag prints as the default in --help, never
// shows a secret: a secret flag shows nothing, a URL flag shows its URL with
// the password masked. Every flag that takes a value from the environment
// is declared with envFlag or secretFlag, so no --help prints a key,
// password or token that happens to be exported.
type envValue struct {
	p      *string
	secret bool
	def    string // what --help shows as the default
}

func (v *envValue) Set(s string) error { *v.p = s; return nil }
func (v *envValue) Type() string       { return "string" }
func (v *envValue) String() string {
	if v == nil || v.secret {
		return ""
	}
	return v.def
}

// secretFlag declares a flag holding a secret (API key, password, token)
// whose default is the environment variable env. --help never shows it.
func secretFlag(fs *pflag.FlagSet, p *string, name, env, usage string) {
	*p = os.Getenv(env)
	fs.Var(&envValue{p: p, secret: true}, name, usage)
}

// envFlag declares a flag whose default is the environment variable env,
// or def when it is unset. A URL's password is masked in --help.
func envFlag(fs *pflag.FlagSet, p *string, name, env, def, usage string) {
	*p = envOr(env, def)
	fs.Var(&envValue{p: p, def: redactURL(*p)}, name, usage)
}

// redactURL masks the password of every URL in a comma-separated list.
func redactURL(s string) string {
	out := []byte{}
	for i, part := range strings.Split(s, ",") {
		if i > 0 {
			out = append(out, ',')
		}
		if u, err := url.Parse(part); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				part = u.Redacted()
			} else if u.User.Username() != "" {
				// nats://TOKEN@host: the user part is the token.
				u.User = url.User("xxxxx")
				part = u.String()
			}
		}
		out = append(out, part...)
	}
	return string(out)
}
