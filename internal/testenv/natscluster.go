package testenv

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATSCluster is an in-process NATS cluster with JetStream on loopback,
// for the tests of replicated sites (internal/cluster): n servers routed
// to each other, each with its store in a temporary directory.
type NATSCluster struct {
	t       testing.TB
	Servers []*server.Server // nil for a node that is down
	opts    []*server.Options
}

// StartNATSCluster starts n routed servers and waits until each accepts
// connections; they are shut down at the end of the test. The route ports
// are found free and then let go before the servers listen on them, so
// another process can take one in between: a cluster that does not come
// up is shut down and started again on new ports (three tries).
func StartNATSCluster(t testing.TB, n int) *NATSCluster {
	t.Helper()
	var why error
	for range 3 {
		c, err := startNATSCluster(t, n)
		if err == nil {
			t.Cleanup(func() {
				for _, s := range c.Servers {
					if s != nil {
						s.Shutdown()
					}
				}
			})
			return c
		}
		why = err
		t.Logf("nats cluster: %v; starting again on new ports", err)
	}
	t.Fatalf("nats cluster: %v", why)
	return nil
}

func startNATSCluster(t testing.TB, n int) (*NATSCluster, error) {
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %v", err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	c := &NATSCluster{t: t, Servers: make([]*server.Server, n)}
	for i := range n {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
			JetStream: true, StoreDir: t.TempDir(),
			Cluster: server.ClusterOpts{Name: "tafweej-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:  routes,
		})
	}
	for i := range n {
		if err := c.start(i); err != nil {
			for _, s := range c.Servers {
				if s != nil {
					s.Shutdown()
				}
			}
			return nil, err
		}
	}
	return c, nil
}

// Start starts node i (again, on its first client port and store).
func (c *NATSCluster) Start(i int) {
	c.t.Helper()
	if err := c.start(i); err != nil {
		c.t.Fatal(err)
	}
}

// start starts node i and waits (30 s: a loaded machine under -race is
// slow to open JetStream) until it accepts connections.
func (c *NATSCluster) start(i int) error {
	s, err := server.NewServer(c.opts[i])
	if err != nil {
		return fmt.Errorf("nats server %d: %v", i+1, err)
	}
	s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("nats server %d not ready in 30 s", i+1)
	}
	// Keep the client port across restarts.
	c.opts[i].Port = s.Addr().(*net.TCPAddr).Port
	c.Servers[i] = s
	return nil
}

// Stop shuts node i down, as a lost machine.
func (c *NATSCluster) Stop(i int) {
	if s := c.Servers[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.Servers[i] = nil
	}
}

// URLs are the client URLs of every node, comma-separated (--nats).
func (c *NATSCluster) URLs() string {
	var u []string
	for i, o := range c.opts {
		if s := c.Servers[i]; s != nil {
			u = append(u, s.ClientURL())
		} else {
			u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
		}
	}
	return strings.Join(u, ",")
}
