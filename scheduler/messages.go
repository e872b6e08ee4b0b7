package scheduler

import (
	"strconv"
	"strings"
	"time"
)

// Messages shown to visitors and gate staff, in English and Arabic. A "%t"
// stands for the time that goes with the reason (the wave, or when to come
// back), written with Latin digits in English and Arabic-Indic in Arabic; a
// "%g" for the gate the attendant needs to know of (the ticket's gate for
// wrong_gate, the unknown gate id for unknown_gate), in the message's
// language.
var messages = map[string]Text{
	ReasonOK:               {EN: "Welcome — wave %t", AR: "أهلاً وسهلاً — فوج %t"},
	ReasonTooEarly:         {EN: "Too early — please come back at %t", AR: "مبكر جداً — يرجى العودة الساعة %t"},
	ReasonTooLate:          {EN: "Too late for this wave and no later wave has room today", AR: "تأخرتم عن موعد الفوج ولا يوجد مكان في فوج لاحق اليوم"},
	ReasonRebooked:         {EN: "Late — moved to the wave at %t", AR: "تأخرتم — نُقلتم إلى فوج الساعة %t"},
	ReasonAlreadyUsed:      {EN: "Ticket already used for the whole group", AR: "استُخدمت التذكرة لكامل المجموعة"},
	ReasonUnknownTicket:    {EN: "Unknown ticket", AR: "تذكرة غير معروفة"},
	ReasonInvalidSignature: {EN: "Invalid ticket — signature does not match", AR: "تذكرة غير صالحة — التوقيع غير مطابق"},
	ReasonWrongGate:        {EN: "Wrong gate — this ticket is for %g", AR: "البوابة غير صحيحة — هذه التذكرة لبوابة: %g"},
	ReasonUnknownGate: {EN: "Unknown gate %g — this device is not set up for a gate of this site",
		AR: "بوابة غير معروفة %g — هذا الجهاز غير مُعدّ لبوابة من بوابات الموقع"},
	ReasonWrongDay:   {EN: "This ticket is for another day", AR: "هذه التذكرة ليوم آخر"},
	ReasonCancelled:  {EN: "This booking was cancelled", AR: "أُلغي هذا الحجز"},
	ReasonHeld:       {EN: "Wave held — the route is crowded; please come back at %t", AR: "الفوج متوقف مؤقتاً بسبب الازدحام — يرجى العودة الساعة %t"},
	ReasonClosed:     {EN: "Closed — the route is closed for safety", AR: "مغلق — المسار مغلق حفاظاً على السلامة"},
	ReasonBadRequest: {EN: "Scan not understood — please scan again", AR: "تعذّرت قراءة المسح — يرجى المسح مرة أخرى"},
	ReasonInsufficientStorage: {EN: "Entry cannot be recorded — the system's storage is full; staff have been alerted, please wait",
		AR: "تعذّر تسجيل الدخول — امتلأت مساحة تخزين النظام؛ تم إبلاغ الموظفين، يرجى الانتظار"},
}

// message renders the visitor message for reason; t is the time it names,
// shown in the site's zone, and gate the gate it names.
func message(reason string, t time.Time, loc *time.Location, gate Text) Text {
	m, ok := messages[reason]
	if !ok {
		return Text{EN: reason, AR: reason}
	}
	hhmm := "--:--"
	if !t.IsZero() {
		hhmm = t.In(loc).Format("15:04")
	}
	return Text{
		EN: fill(m.EN, hhmm, gate.EN),
		AR: fill(m.AR, arabicDigits(hhmm), gate.AR),
	}
}

// fill is strings.NewReplacer("%t", t, "%g", g).Replace(s) without
// building a replacer for every message (two per gate scan decided, in
// the owner loop).
func fill(s, t, g string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(t) + len(g))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		if s[i] == '%' && i+1 < len(s) && (s[i+1] == 't' || s[i+1] == 'g') {
			if s[i+1] == 't' {
				b.WriteString(t)
			} else {
				b.WriteString(g)
			}
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Message returns the visitor message for a scan reason (for adapters that
// answer before the scheduler is asked, e.g. a forged ticket).
func Message(reason string) Text { return message(reason, time.Time{}, time.UTC, Text{}) }

// UnknownGateMessage is the message of a scan at gate, which is no gate of
// the site: it names the id the device sent, quoted.
func UnknownGateMessage(gate string) Text {
	q := strconv.Quote(gate)
	return message(ReasonUnknownGate, time.Time{}, time.UTC, Text{EN: q, AR: q})
}

// gateName is how a message names gate id: its configured name, or the id
// when it has none in that language.
func (c *Config) gateName(id string) Text {
	g, ok := c.Gate(id)
	if !ok {
		return Text{EN: id, AR: id}
	}
	n := g.Name
	if n.EN == "" {
		n.EN = id
	}
	if n.AR == "" {
		n.AR = n.EN
	}
	return n
}

func arabicDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r = '٠' + (r - '0')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// partialMessage is the message of a partial admission: only admitted of
// the count scanned may pass, the rest of the group being already in. The
// welcome alone would let a device that shows only the message wave the
// whole scan through.
func partialMessage(admitted, count int, wave time.Time, loc *time.Location) Text {
	return partialText(strconv.Itoa(admitted), strconv.Itoa(count), wave.In(loc).Format("15:04"))
}

// The English partial message's parts (CompactScanMessage reads them back).
const (
	partialHead = "Only "
	partialOf   = " of "
	partialWave = " may enter — the rest of the group is already in (wave "
)

// partialText is partialMessage's text for the numbers and the wave as
// written in English.
func partialText(n, c, hhmm string) Text {
	return Text{
		EN: partialHead + n + partialOf + c + partialWave + hhmm + ")",
		AR: "يُسمح بدخول " + arabicDigits(n) + " فقط من " + arabicDigits(c) + " — بقية المجموعة دخلت (فوج " + arabicDigits(hhmm) + ")",
	}
}
