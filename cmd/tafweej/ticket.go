package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"

	"github.com/spf13/cobra"
)

func newTicketCmd(g *globals) *cobra.Command {
	var png string
	cmd := &cobra.Command{
		Use:   "ticket BOOKING-ID",
		Short: "Show a booking's ticket code, or save its QR code as a PNG to print or send",
		Example: `  tafweej ticket bk_4f1c2a
  tafweej ticket bk_4f1c2a --png bk_4f1c2a.png`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			path := "/v1/bookings/" + url.PathEscape(args[0])
			if png == "" {
				var b bookingJS
				raw, err := c.call(cmd.Context(), "GET", path, nil, &b)
				if err != nil {
					return err
				}
				if g.json {
					return printRaw(cmd.OutOrStdout(), raw)
				}
				if b.Ticket == "" {
					return fmt.Errorf("booking %s has no ticket (status %s)", b.ID, b.Status)
				}
				fmt.Fprintln(cmd.OutOrStdout(), b.Ticket)
				return nil
			}
			var data []byte
			if err := c.do(cmd.Context(), "GET", path+"/ticket.png", nil, &data); err != nil {
				return err
			}
			if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
				return fmt.Errorf("the service's answer to GET %s/ticket.png is not a PNG", path)
			}
			if err := writeFileAtomic(png, data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Saved the QR code of %s to %s (%d bytes).\n", args[0], png, len(data))
			return nil
		},
	}
	cmd.Flags().StringVar(&png, "png", "", "save the ticket's QR code to this PNG file")
	return cmd
}

// writeFileAtomic writes data to path through a temporary file, so that a
// failed write leaves no half file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
