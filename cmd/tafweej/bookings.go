package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

type bookingJS struct {
	ID        string    `json:"id"`
	Operator  string    `json:"operator"`
	Date      string    `json:"date"`
	Route     string    `json:"route"`
	PartySize int       `json:"party_size"`
	Slot      time.Time `json:"slot"`
	Gate      string    `json:"gate"`
	Status    string    `json:"status"`
	Admitted  int       `json:"admitted"`
	Reason    string    `json:"reason"`
	Ticket    string    `json:"ticket"`
	TicketURL string    `json:"ticket_url"`
	Reference string    `json:"reference"`
}

type slotJS struct {
	Slot      time.Time `json:"slot"`
	Gate      string    `json:"gate"`
	Remaining int       `json:"remaining"`
	Capacity  int       `json:"capacity"`
	Booked    int       `json:"booked"`
	Closed    bool      `json:"closed"`
	LimitedBy *limitJS  `json:"limited_by"`
}

func newAvailabilityCmd(g *globals) *cobra.Command {
	var date, route string
	cmd := &cobra.Command{
		Use:   "availability",
		Short: "Show the waves of a day with the places left for your groups",
		Example: `  tafweej availability --date 2026-12-01 --route monastery
  TAFWEEJ_KEY=tfw_... tafweej availability --date 2026-12-01 --route main --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if date == "" {
				return usagef("e.g. --date "+tomorrow(), "--date is required")
			}
			if err := checkDate("--date", date); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var out struct {
				Slots       []slotJS  `json:"slots"`
				Unavailable *apiError `json:"unavailable,omitempty"`
			}
			q := url.Values{"date": {date}, "route": {route}}
			raw, err := c.call(cmd.Context(), "GET", "/v1/availability?"+q.Encode(), nil, &out)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			var rows [][]string
			for _, s := range out.Slots {
				state := ""
				switch {
				case s.Closed:
					state = "closed"
				case s.Remaining == 0:
					state = "full"
				}
				rows = append(rows, []string{s.Slot.Format("15:04"), s.Gate, strconv.Itoa(s.Remaining), fmt.Sprintf("%d/%d", s.Booked, s.Capacity), state, s.LimitedBy.String()})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s, route %s\n", date, route)
			if len(rows) == 0 && out.Unavailable != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "No waves to book: %s (%s)\n", out.Unavailable.Message, out.Unavailable.Code)
				return nil
			}
			table(cmd.OutOrStdout(), "WAVE\tGATE\tPLACES FOR YOU\tBOOKED/CAPACITY\t\tLIMITED BY", rows)
			return nil
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "day, YYYY-MM-DD (required)")
	cmd.Flags().StringVar(&route, "route", "main", "route id (see configs/petra.yaml)")
	return cmd
}

// group is what the book and request commands say of a group.
type group struct {
	date, route, window, language, guide, ref, idem string
	size                                            int
}

// flags declares the group's flags on cmd.
func (gr *group) flags(cmd *cobra.Command, dateHelp string) {
	f := cmd.Flags()
	f.StringVar(&gr.date, "date", "", dateHelp)
	f.StringVar(&gr.route, "route", "main", "route id")
	f.IntVar(&gr.size, "party", 0, "party size")
	f.StringVar(&gr.window, "window", "", "acceptable entry window, HH:MM-HH:MM")
	f.StringVar(&gr.language, "language", "", "group language, e.g. ar, en, fr")
	f.StringVar(&gr.guide, "guide", "", "guide's name")
	f.StringVar(&gr.ref, "ref", "", "your own reference")
	f.StringVar(&gr.idem, "idempotency-key", "", "retry key (default: a new random key)")
}

// body is the JSON body of the group's booking or request; example is the
// command line shown when a flag is missing. It picks a retry key if none
// was given.
func (gr *group) body(example string) (map[string]any, error) {
	if gr.date == "" || gr.window == "" {
		return nil, usagef("e.g. "+example, "--date, --party and --window FROM-TO are required")
	}
	if err := checkDate("--date", gr.date); err != nil {
		return nil, err
	}
	if err := checkParty(gr.size); err != nil {
		return nil, err
	}
	from, to, err := checkWindow(gr.window)
	if err != nil {
		return nil, err
	}
	if gr.idem == "" {
		gr.idem = randomKey()
	}
	return map[string]any{
		"date": gr.date, "route": gr.route, "party_size": gr.size,
		"window":   map[string]string{"from": from, "to": to},
		"language": gr.language, "guide": gr.guide, "reference": gr.ref,
	}, nil
}

func newBookCmd(g *globals) *cobra.Command {
	var gr group
	var walkIn bool
	cmd := &cobra.Command{
		Use:   "book",
		Short: "Book a group into the earliest wave with room in its window",
		Example: `  tafweej book --date 2026-12-01 --route monastery --party 40 --window 08:00-10:00 --language ar --ref TRIP-118
  tafweej book --walk-in --date 2026-11-29 --route main --party 4 --window 09:00-12:00   # ticket office, ops key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := gr.body("tafweej book --date 2026-12-01 --route main --party 40 --window 08:00-10:00")
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			path := "/v1/bookings"
			if walkIn {
				path += "?walk_in=true"
			}
			var b bookingJS
			raw, err := c.call(cmd.Context(), "POST", path, body, &b, "Idempotency-Key", gr.idem)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Booked %s: %d visitors on route %s\n", b.ID, b.PartySize, b.Route)
			fmt.Fprintf(w, "  wave    %s at gate %s\n", b.Slot.Format("2006-01-02 15:04 -07:00"), b.Gate)
			fmt.Fprintf(w, "  ticket  %s\n", b.Ticket)
			fmt.Fprintf(w, "  QR      %s%s\n", c.base, b.TicketURL)
			return nil
		},
	}
	gr.flags(cmd, "day, YYYY-MM-DD")
	cmd.Flags().BoolVar(&walkIn, "walk-in", false, "book for the ticket office (ops key)")
	return cmd
}

func randomKey() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newBookingsCmd(g *globals) *cobra.Command {
	var date string
	cmd := &cobra.Command{
		Use:     "bookings [ID]",
		Short:   "List your bookings of a day, or show one",
		Example: "  tafweej bookings --date 2026-12-01\n  tafweej bookings bk_4f1c2a",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if date != "" {
				if err := checkDate("--date", date); err != nil {
					return err
				}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				var b bookingJS
				raw, err := c.call(cmd.Context(), "GET", "/v1/bookings/"+url.PathEscape(args[0]), nil, &b)
				if err != nil {
					return err
				}
				if g.json {
					return printRaw(cmd.OutOrStdout(), raw)
				}
				printBooking(cmd.OutOrStdout(), c.base, b)
				return nil
			}
			var out struct {
				Bookings []bookingJS `json:"bookings"`
			}
			q := ""
			if date != "" {
				q = "?date=" + url.QueryEscape(date)
			}
			raw, err := c.call(cmd.Context(), "GET", "/v1/bookings"+q, nil, &out)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			list := out.Bookings
			var rows [][]string
			for _, b := range list {
				rows = append(rows, []string{b.ID, b.Operator, b.Slot.Format("2006-01-02 15:04"), b.Gate, b.Route,
					fmt.Sprintf("%d/%d", b.Admitted, b.PartySize), b.Status, b.Reason})
			}
			table(cmd.OutOrStdout(), "ID\tOPERATOR\tWAVE\tGATE\tROUTE\tADMITTED/PARTY\tSTATUS\tREASON", rows)
			return nil
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "only this day, YYYY-MM-DD")
	return cmd
}

func newCancelCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "cancel ID",
		Short:   "Cancel a booking; its places return to the wave",
		Example: "  tafweej cancel bk_4f1c2a",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var b bookingJS
			raw, err := c.call(cmd.Context(), "DELETE", "/v1/bookings/"+url.PathEscape(args[0]), nil, &b)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Cancelled %s (%d places at %s, %s)\n", b.ID, b.PartySize, b.Slot.Format("2006-01-02 15:04"), b.Gate)
			return nil
		},
	}
}

// printBooking shows one booking in full, with its ticket code.
func printBooking(w io.Writer, base string, b bookingJS) {
	fmt.Fprintf(w, "Booking %s of %s: %d visitors on route %s (%s)\n", b.ID, b.Operator, b.PartySize, b.Route, b.Status)
	fmt.Fprintf(w, "  wave      %s at gate %s\n", b.Slot.Format("2006-01-02 15:04 -07:00"), b.Gate)
	fmt.Fprintf(w, "  admitted  %d of %d\n", b.Admitted, b.PartySize)
	if b.Reason != "" {
		fmt.Fprintf(w, "  reason    %s\n", b.Reason)
	}
	if b.Reference != "" {
		fmt.Fprintf(w, "  your ref  %s\n", b.Reference)
	}
	if b.Ticket != "" && b.Status != "cancelled" {
		fmt.Fprintf(w, "  ticket    %s\n", b.Ticket)
		fmt.Fprintf(w, "  QR        %s%s (or: tafweej ticket %s --png FILE)\n", base, b.TicketURL, b.ID)
	}
}

// tomorrow is tomorrow's date, for examples in messages.
func tomorrow() string { return time.Now().AddDate(0, 0, 1).Format(time.DateOnly) }
