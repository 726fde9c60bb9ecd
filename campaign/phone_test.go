package campaign

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// The fast path for international numbers must agree with libphonenumber's
// own Parse on every number it accepts: every region's example numbers,
// written as people write them, and random digit strings.
func TestFastE164AgreesWithParse(t *testing.T) {
	var inputs []string
	for region := range phonenumbers.GetSupportedRegions() {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE} {
			num := phonenumbers.GetExampleNumberForType(region, typ)
			if num == nil {
				continue
			}
			e164 := phonenumbers.Format(num, phonenumbers.E164)
			inputs = append(inputs, e164, phonenumbers.Format(num, phonenumbers.INTERNATIONAL))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		inputs = append(inputs, fmt.Sprintf("+%d", rng.Uint64N(1_000_000_000_000_000)))
	}
	accepted := 0
	for _, in := range inputs {
		fast, _, ok := fastE164(in)
		if !ok {
			continue
		}
		accepted++
		num, err := phonenumbers.Parse(in, "")
		if err != nil || !phonenumbers.IsValidNumber(num) {
			t.Errorf("%q: fast path accepts %s, Parse refuses (%v)", in, fast, err)
			continue
		}
		if slow := phonenumbers.Format(num, phonenumbers.E164); slow != fast {
			t.Errorf("%q: fast path %s, Parse %s", in, fast, slow)
		}
	}
	if accepted < len(inputs)/20 {
		t.Errorf("the fast path took only %d of %d numbers", accepted, len(inputs))
	}
	t.Logf("fast path took %d of %d numbers, all as Parse reads them", accepted, len(inputs))
}
