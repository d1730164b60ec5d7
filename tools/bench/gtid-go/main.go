// Command gtid-go times go-mysql's GTID parsing and containment — the code DM itself runs — on the same
// input files as `npm run bench:gtid` (tools/bench/gtid.ts), and answers containment questions for the
// benchmark's cross-check of dm-switch's MySQL semantics.
//
//	gtid-go bench mysql|mariadb <superset-file> <subset-file> <rounds>
//	    prints one JSON object: nanoseconds per round of parse(superset), parse(subset), superset.Contain(subset)
//	gtid-go cases < [{"flavor","a","b"}, …]
//	    prints, per case, whether a contains b, or the parse error of a or b
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func parse(flavor, text string) (mysql.GTIDSet, error) {
	if flavor == "mariadb" {
		return mysql.ParseMariadbGTIDSet(text)
	}
	return mysql.ParseMysqlGTIDSet(text)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gtid-go: "+format+"\n", args...)
	os.Exit(2)
}

func bench(flavor, superFile, subFile string, rounds int) {
	superText, err := os.ReadFile(superFile)
	if err != nil {
		fail("read %s: %v", superFile, err)
	}
	subText, err := os.ReadFile(subFile)
	if err != nil {
		fail("read %s: %v", subFile, err)
	}
	out := struct {
		ParseSuper []int64 `json:"parseSuperNs"`
		ParseSub   []int64 `json:"parseSubNs"`
		Contain    []int64 `json:"containNs"`
		Contains   bool    `json:"contains"`
	}{}
	for r := 0; r < rounds; r++ {
		t0 := time.Now()
		a, err := parse(flavor, string(superText))
		t1 := time.Now()
		if err != nil {
			fail("parse %s: %v", superFile, err)
		}
		b, err := parse(flavor, string(subText))
		t2 := time.Now()
		if err != nil {
			fail("parse %s: %v", subFile, err)
		}
		out.Contains = a.Contain(b)
		t3 := time.Now()
		out.ParseSuper = append(out.ParseSuper, t1.Sub(t0).Nanoseconds())
		out.ParseSub = append(out.ParseSub, t2.Sub(t1).Nanoseconds())
		out.Contain = append(out.Contain, t3.Sub(t2).Nanoseconds())
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("write: %v", err)
	}
}

type question struct {
	Flavor string `json:"flavor"`
	A      string `json:"a"`
	B      string `json:"b"`
}

type answer struct {
	Contains *bool  `json:"contains,omitempty"`
	Error    string `json:"error,omitempty"`
}

func cases() {
	var qs []question
	if err := json.NewDecoder(os.Stdin).Decode(&qs); err != nil {
		fail("read cases from stdin: %v", err)
	}
	answers := make([]answer, 0, len(qs))
	for _, q := range qs {
		a, errA := parse(q.Flavor, q.A)
		b, errB := parse(q.Flavor, q.B)
		switch {
		case errA != nil:
			answers = append(answers, answer{Error: "a: " + errA.Error()})
		case errB != nil:
			answers = append(answers, answer{Error: "b: " + errB.Error()})
		default:
			c := a.Contain(b)
			answers = append(answers, answer{Contains: &c})
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(answers); err != nil {
		fail("write: %v", err)
	}
}

func main() {
	switch {
	case len(os.Args) == 6 && os.Args[1] == "bench":
		rounds, err := strconv.Atoi(os.Args[5])
		if err != nil || rounds < 1 {
			fail("rounds must be a whole number ≥ 1, got %q", os.Args[5])
		}
		bench(os.Args[2], os.Args[3], os.Args[4], rounds)
	case len(os.Args) == 2 && os.Args[1] == "cases":
		cases()
	default:
		fail("usage: gtid-go bench mysql|mariadb <superset-file> <subset-file> <rounds> | gtid-go cases < cases.json")
	}
}
